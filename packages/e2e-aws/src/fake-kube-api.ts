import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A read-only stand-in for one cluster's Kubernetes API on 127.0.0.1, for the real `kubectl`
 * the failover tool runs: `/readyz`, legacy discovery (`/api`, `/apis`, one APIResourceList per
 * group version) and GET of objects and lists with the API server's answers: a `Status` 404
 * (reason NotFound) for a missing object or an unknown resource, `metadata.resourceVersion` on
 * every object and list, `Accept`ed as JSON only. Every write answers 405: the e2e phase runs
 * only the failover steps that read the clusters (preflight), so a step that would change one
 * fails loudly instead of passing against a fake that does not model the change.
 * Not CloudNativePG, Flux or a Deployment controller: objects never change by themselves.
 */
export interface FakeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Readonly<Record<string, string>> } & Record<string, unknown>;
  readonly [key: string]: unknown;
}

interface Resource {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

/** The resources the failover tool names (core, apps, CloudNativePG, Flux). */
export const FAKE_RESOURCES: readonly Resource[] = [
  { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false },
  { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
  { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true },
  { group: 'postgresql.cnpg.io', version: 'v1', plural: 'clusters', kind: 'Cluster', namespaced: true },
  { group: 'postgresql.cnpg.io', version: 'v1', plural: 'backups', kind: 'Backup', namespaced: true },
  { group: 'kustomize.toolkit.fluxcd.io', version: 'v1', plural: 'kustomizations', kind: 'Kustomization', namespaced: true },
];

const apiVersionOf = (r: Resource) => (r.group ? `${r.group}/${r.version}` : r.version);

export class FakeKubeApi {
  /** Every request as `METHOD path`, for the phase's report of what kubectl asked. */
  readonly requests: string[] = [];
  private readonly objects = new Map<string, FakeObject & { metadata: { resourceVersion: string } }>();
  private revision = 1;

  private constructor(
    readonly cluster: string,
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(cluster: string, objects: readonly FakeObject[] = []): Promise<FakeKubeApi> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const api = new FakeKubeApi(cluster, server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => api.handle(req, res));
    for (const o of objects) api.put(o);
    return api;
  }

  /** Stores (or replaces) an object as the API server would: a new resourceVersion each write. */
  put(object: FakeObject): void {
    const resource = FAKE_RESOURCES.find((r) => apiVersionOf(r) === object.apiVersion && r.kind === object.kind);
    if (!resource) throw new Error(`fake API ${this.cluster}: no resource for ${object.apiVersion} ${object.kind}`);
    this.revision += 1;
    this.objects.set(this.key(resource, object.metadata.namespace, object.metadata.name), { ...object, metadata: { ...object.metadata, resourceVersion: String(this.revision) } });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** A kubeconfig whose one context is named after the cluster, as ci-kubeconfig.sh publishes it. */
  kubeconfig(): string {
    const c = this.cluster;
    return [
      'apiVersion: v1',
      'kind: Config',
      `clusters:\n- name: ${c}\n  cluster:\n    server: ${this.url}`,
      `users:\n- name: ${c}-ci\n  user:\n    token: e2e-fake-${c}`,
      `contexts:\n- name: ${c}\n  context:\n    cluster: ${c}\n    user: ${c}-ci`,
      `current-context: ${c}`,
      '',
    ].join('\n');
  }

  private key(r: Resource, namespace: string | undefined, name: string): string {
    return `${apiVersionOf(r)}/${r.plural}/${r.namespaced ? (namespace ?? 'default') : ''}/${name}`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    const json = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const status = (code: number, reason: string, message: string, details?: Record<string, string>) =>
      json(code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code });
    if (req.method !== 'GET') return status(405, 'MethodNotAllowed', `the e2e fake API of ${this.cluster} is read-only (${req.method} ${url.pathname})`);
    const path = url.pathname.replace(/\/$/, '');
    if (path === '/readyz' || path === '/livez' || path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      return;
    }
    if (path === '/version') return json(200, { major: '1', minor: '32', gitVersion: 'v1.32.0-e2e-fake', platform: 'linux/amd64' });
    if (path === '/api') return json(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    if (path === '/apis') {
      const groups = [...new Set(FAKE_RESOURCES.filter((r) => r.group).map((r) => `${r.group}/${r.version}`))].map((gv) => {
        const [name, version] = gv.split('/') as [string, string];
        return { name, versions: [{ groupVersion: gv, version }], preferredVersion: { groupVersion: gv, version } };
      });
      return json(200, { kind: 'APIGroupList', apiVersion: 'v1', groups });
    }
    // /api/v1[/namespaces/<ns>]/<plural>[/<name>] or /apis/<group>/<version>[/namespaces/<ns>]/<plural>[/<name>]
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))(?:\/namespaces\/([^/]+))?(?:\/([^/]+)(?:\/([^/]+))?)?$/.exec(path);
    if (!m) return status(404, 'NotFound', `the server could not find the requested resource (${path})`);
    const [, coreVersion, group = '', groupVersion, namespace, plural, name] = m;
    const version = coreVersion ?? groupVersion!;
    if (!plural) {
      const resources = FAKE_RESOURCES.filter((r) => r.group === group && r.version === version);
      if (resources.length === 0) return status(404, 'NotFound', `the server could not find the requested resource (${path})`);
      return json(200, {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: group ? `${group}/${version}` : version,
        resources: resources.map((r) => ({ name: r.plural, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'list'] })),
      });
    }
    const resource = FAKE_RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
    if (!resource) return status(404, 'NotFound', `the server could not find the requested resource (${path})`);
    if (name) {
      const found = this.objects.get(this.key(resource, namespace, name));
      if (!found) return status(404, 'NotFound', `${plural}${group ? `.${group}` : ''} "${name}" not found`, { name, group, kind: plural });
      return json(200, found);
    }
    const selector = url.searchParams.get('labelSelector');
    const items = [...this.objects.entries()]
      .filter(([k]) => k.startsWith(`${apiVersionOf(resource)}/${plural}/${namespace ?? ''}`))
      .map(([, o]) => o)
      .filter((o) => !selector || selector.split(',').every((term) => {
        const [k, v] = term.split('=') as [string, string | undefined];
        return v === undefined ? o.metadata.labels?.[k] !== undefined : o.metadata.labels?.[k] === v;
      }));
    return json(200, { kind: `${resource.kind}List`, apiVersion: apiVersionOf(resource), metadata: { resourceVersion: String(this.revision) }, items });
  }
}
