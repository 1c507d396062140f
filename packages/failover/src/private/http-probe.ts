import { request } from 'node:http';

export interface ProbeResult {
  readonly ok: boolean;
  readonly detail: string;
  readonly status?: number;
  readonly body?: string;
}

export interface HttpCall {
  readonly method?: 'GET' | 'POST';
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** @default 5000 */
  readonly timeoutMs?: number;
}

/**
 * One HTTP request to the ingress load balancer with the public host name in the Host header,
 * as a client arriving through DNS would send it. 2xx/3xx counts as answering.
 */
export function probeOnce(endpoint: string, path: string, host: string | undefined, call: HttpCall = {}): Promise<ProbeResult> {
  const timeoutMs = call.timeoutMs ?? 5000;
  return new Promise((resolve) => {
    const url = new URL(`http://${endpoint}${path}`);
    const headers = { ...(host ? { host } : {}), ...(call.body ? { 'content-type': 'application/json' } : {}), ...call.headers };
    const req = request(url, { method: call.method ?? 'GET', timeout: timeoutMs, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk.length + body.length > 65536 ? '' : chunk));
      res.on('end', () => {
        const code = res.statusCode ?? 0;
        resolve({ ok: code >= 200 && code < 400, detail: `HTTP ${code}`, status: code, body });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => resolve({ ok: false, detail: error.message }));
    req.end(call.body);
  });
}
