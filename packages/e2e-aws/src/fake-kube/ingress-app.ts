import dns from 'node:dns';
import { createServer, type Server } from 'node:http';
import { ORDERS_API } from '@platform/platform-config';
import type { FakeKubeApi } from '../fake-kube-api';
import type { FakeCnpg } from './cnpg';
import type { Obj } from './patch';

export interface IngressAppProps {
  /** The loopback address this cluster's "NLB" listens on (port 80, as the NLB's listener). */
  readonly address: string;
  /** The public host name the Ingress routes (anything else: 404, as ingress-nginx's default backend). */
  readonly host: string;
  readonly api: FakeKubeApi;
  readonly cnpg: FakeCnpg;
  readonly app: { readonly namespace: string; readonly name: string };
  readonly database: { readonly namespace: string; readonly name: string };
}

/**
 * What a client reaches through a cluster's ingress NLB, faked: the sample app and its orders
 * API (PostgREST-like: `POST /orders` → 201, `GET /orders?item=eq.<x>` → rows). It answers only
 * while the app's Deployment in the fake API has ready replicas (else 503, no healthy backend),
 * and orders are written to / read from the fake CloudNativePG database of the same cluster, so
 * a write succeeds only on a promoted, running, unhibernated primary. Not an NLB, not
 * ingress-nginx, not the app's code.
 */
export class FakeIngressApp {
  /** Requests as `METHOD path → status`. */
  readonly requests: string[] = [];
  private constructor(
    private readonly props: IngressAppProps,
    private server: Server | undefined,
  ) {}

  static async start(props: IngressAppProps): Promise<FakeIngressApp> {
    const app = new FakeIngressApp(props, undefined);
    await app.up();
    return app;
  }

  /** The region comes back: the listener accepts again. */
  async up(): Promise<void> {
    if (this.server) return;
    const server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        const { code, text } = this.answer(req.method ?? 'GET', req.url ?? '/', String(req.headers.host ?? ''), body);
        this.requests.push(`${req.method} ${req.url} → ${code}`);
        res.writeHead(code, { 'content-type': text.startsWith('[') || text.startsWith('{') ? 'application/json' : 'text/plain' });
        res.end(text);
      });
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(80, this.props.address, () => resolve()));
    this.server = server;
  }

  /** The region goes down: connections are refused. */
  async down(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => (s.closeAllConnections(), s.close(() => resolve())));
  }

  private answer(method: string, rawUrl: string, host: string, body: string): { code: number; text: string } {
    if (host.replace(/:\d+$/, '') !== this.props.host) return { code: 404, text: 'default backend - 404' };
    const { api, cnpg, app, database } = this.props;
    const deployment = api.read({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: app.namespace, name: app.name });
    if (Number(((deployment?.status ?? {}) as Obj).readyReplicas ?? 0) < 1) return { code: 503, text: 'Service Temporarily Unavailable (no ready endpoints)' };
    const url = new URL(rawUrl, 'http://ingress');
    if (url.pathname !== ORDERS_API.path) return { code: 200, text: 'ok' };
    if (method === 'POST') {
      let item: unknown;
      try {
        item = (JSON.parse(body) as { item?: unknown }).item;
      } catch {
        return { code: 400, text: '{"message":"invalid JSON"}' };
      }
      if (typeof item !== 'string') return { code: 400, text: '{"message":"item is required"}' };
      const refused = cnpg.insert(database.namespace, database.name, { item });
      return refused ? { code: 503, text: JSON.stringify({ message: refused }) } : { code: 201, text: '' };
    }
    if (method !== 'GET') return { code: 405, text: '' };
    const rows = cnpg.rows(database.namespace, database.name);
    if (!rows) return { code: 503, text: '{"message":"database unavailable"}' };
    const filter = url.searchParams.get('item');
    const wanted = filter?.startsWith('eq.') ? filter.slice(3) : undefined;
    return { code: 200, text: JSON.stringify(rows.filter((r) => wanted === undefined || r.item === wanted)) };
  }
}

const routes = new Map<string, string>();
let original: typeof dns.lookup | undefined;

/**
 * Resolves `name` (an NLB DNS name moto made up) to a loopback address inside this process, the
 * way Route 53's alias / the NLB's own record would resolve it to its addresses. Child processes
 * (aws, kubectl) are unaffected.
 */
export function resolveInProcess(name: string, address: string): void {
  routes.set(name.toLowerCase().replace(/\.$/, ''), address);
  if (original) return;
  original = dns.lookup;
  const patched = ((hostname: string, options: unknown, callback?: unknown) => {
    const cb = (typeof options === 'function' ? options : callback) as (err: Error | null, address: unknown, family?: number) => void;
    const opts = (typeof options === 'object' && options !== null ? options : {}) as { all?: boolean };
    const to = routes.get(hostname.toLowerCase());
    if (!to) return (original as (...a: unknown[]) => void)(hostname, options, callback);
    process.nextTick(() => (opts.all ? cb(null, [{ address: to, family: 4 }]) : cb(null, to, 4)));
  }) as unknown as typeof dns.lookup;
  dns.lookup = patched;
}

/** Undoes resolveInProcess. */
export function clearInProcessRoutes(): void {
  routes.clear();
  if (original) dns.lookup = original;
  original = undefined;
}
