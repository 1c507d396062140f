import { request } from 'node:http';

export interface ProbeResult {
  readonly ok: boolean;
  readonly detail: string;
}

/**
 * One HTTP GET to the ingress load balancer with the public host name in the Host header,
 * as a client arriving through DNS would send it. 2xx/3xx counts as answering.
 */
export function probeOnce(endpoint: string, path: string, host: string | undefined, timeoutMs = 5000): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const url = new URL(`http://${endpoint}${path}`);
    const req = request(url, { method: 'GET', timeout: timeoutMs, headers: host ? { host } : {} }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      resolve({ ok: code >= 200 && code < 400, detail: `HTTP ${code}` });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => resolve({ ok: false, detail: error.message }));
    req.end();
  });
}
