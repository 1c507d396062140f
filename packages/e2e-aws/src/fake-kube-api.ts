import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { fluxSsaModel } from '@platform/failover';
import { parse as parseYaml } from 'yaml';
import { fluxSync, recordUpdate, renderManagedFields, serverSideApply } from './fake-kube/fields';
import { ApiError, jsonPatch, mergePatch, strategicMergePatch, type Obj } from './fake-kube/patch';
import { schemaErrors, type Schema } from './fake-kube/schema';

/**
 * A stateful stand-in for one cluster's Kubernetes API server on 127.0.0.1, for the real
 * `kubectl` the failover tool runs, with the API server's documented semantics:
 *
 * - discovery (`/api`, `/apis`, one APIResourceList per group version with the verbs and
 *   subresources each resource really has), `/readyz`, `/version`;
 * - GET/LIST (label and `metadata.name`/`metadata.namespace` field selectors), WATCH
 *   (`?watch=1`: events after `resourceVersion`, or the current objects as ADDED first; ends
 *   after `timeoutSeconds`), POST (409 AlreadyExists), PUT (409 Conflict on a stale
 *   resourceVersion), PATCH as merge (RFC 7386), JSON (RFC 6902) and strategic merge (built-in
 *   kinds only: 415 for a custom resource, as the API server answers), server-side apply with
 *   field managers (`managedFields`; a field owned by another manager with another value is a
 *   409 conflict unless `force=true`), `resourceVersion` on every write, `metadata.generation`
 *   on spec changes, `status` and `scale` subresources, DELETE with finalizers and
 *   propagation (Background: dependents by ownerReferences collected on the next tick;
 *   Foreground: the owner waits for them; Orphan);
 * - custom resources validated against the repository's vendored CRD schemas: an unknown
 *   field is a 422 under `fieldValidation=Strict` (kubectl's default) and pruned otherwise;
 * - `pods/exec` over WebSocket (v5/v4.channel.k8s.io, what kubectl 1.30+ speaks), answered by
 *   whatever a controller registered for the pod's container (see fake-kube/cnpg.ts).
 *
 * Controllers (fake-kube/*.ts: Flux, CloudNativePG, Deployments) run on a tick, so objects
 * change over time and kubectl's waits are exercised. Anything not modelled answers as the API
 * server answers for something it does not serve (404 NotFound, 405 MethodNotAllowed), never 200.
 */
export interface FakeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Readonly<Record<string, string>> } & Record<string, unknown>;
  readonly [key: string]: unknown;
}

export interface Resource {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly subresources: readonly ('status' | 'scale' | 'exec')[];
  /** Built-in kinds take strategic merge patches; custom resources do not. */
  readonly builtin: boolean;
  readonly shortNames?: readonly string[];
}

/** The resources the failover tool names (core, apps, CloudNativePG, Flux). */
export const FAKE_RESOURCES: readonly Resource[] = [
  { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false, subresources: ['status'], builtin: true, shortNames: ['no'] },
  { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false, subresources: ['status'], builtin: true, shortNames: ['ns'] },
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true, subresources: ['status', 'exec'], builtin: true, shortNames: ['po'] },
  { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true, subresources: ['status', 'scale'], builtin: true, shortNames: ['deploy'] },
  { group: 'postgresql.cnpg.io', version: 'v1', plural: 'clusters', kind: 'Cluster', namespaced: true, subresources: ['status', 'scale'], builtin: false },
  { group: 'postgresql.cnpg.io', version: 'v1', plural: 'backups', kind: 'Backup', namespaced: true, subresources: ['status'], builtin: false },
  { group: 'kustomize.toolkit.fluxcd.io', version: 'v1', plural: 'kustomizations', kind: 'Kustomization', namespaced: true, subresources: ['status'], builtin: false, shortNames: ['ks'] },
];

export const apiVersionOf = (r: Pick<Resource, 'group' | 'version'>) => (r.group ? `${r.group}/${r.version}` : r.version);

export interface Ref {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

/** What a container answers to `kubectl exec` (a controller registers it for its pods). */
export interface ExecResult {
  readonly stdout: string;
  readonly stderr?: string;
  readonly exitCode: number;
}
export type ExecHandler = (pod: Obj, container: string, command: readonly string[]) => ExecResult;

/** How long after the upgrade an exec's first output comes (a runtime starting the process takes longer). */
const EXEC_START_MS = 200;

/** A controller's reconcile, called every tick. */
export type Controller = (api: FakeKubeApi) => void;

interface Stored {
  object: Obj;
  managed: fluxSsaModel.ManagedEntry[];
}

interface WatchEvent {
  readonly rv: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly key: string;
  readonly object: Obj;
}

interface Watcher {
  readonly prefix: string;
  readonly match: (o: Obj) => boolean;
  readonly res: ServerResponse;
}

export interface FakeKubeApiOptions {
  /** Milliseconds between controller ticks. @default 400 */
  readonly tickMs?: number;
  /** CRD schemas by `<plural>.<group>` (custom resources are validated and pruned by them). */
  readonly schemas?: ReadonlyMap<string, Schema>;
}

const SEED_MANAGER = 'e2e-seed';

export class FakeKubeApi {
  /** Every request as `METHOD path?query`, for the phase's report of what kubectl asked. */
  readonly requests: string[] = [];
  private readonly objects = new Map<string, Stored>();
  private readonly events: WatchEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly controllers: Controller[] = [];
  private readonly execHandlers = new Map<string, ExecHandler>();
  private readonly admission = new Map<string, (obj: Obj) => string[]>();
  private revision = 1;
  private timer?: NodeJS.Timeout;
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly cluster: string,
    private readonly server: Server,
    readonly url: string,
    private readonly options: FakeKubeApiOptions,
  ) {}

  static async start(cluster: string, objects: readonly FakeObject[] = [], options: FakeKubeApiOptions = {}): Promise<FakeKubeApi> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const api = new FakeKubeApi(cluster, server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, options);
    server.on('connection', (s: Socket) => (api.sockets.add(s), s.on('close', () => api.sockets.delete(s))));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => api.handle(req, res, body));
    });
    server.on('upgrade', (req: IncomingMessage, socket: Socket) => api.upgrade(req, socket));
    for (const o of objects) api.put(o);
    api.timer = setInterval(() => api.tick(), options.tickMs ?? 400);
    return api;
  }

  /** Adds a controller; it reconciles on every tick from now on. */
  addController(controller: Controller): void {
    this.controllers.push(controller);
  }

  /**
   * A validating admission webhook for `<plural>.<group>`: every create, update and patch of
   * that resource is refused (422) when `validate` returns messages for the resulting object.
   */
  addAdmission(resource: string, validate: (obj: Obj) => string[]): void {
    this.admission.set(resource, validate);
  }

  /** Registers what `kubectl exec` into containers named `container` of pods labelled `selector` answers. */
  onExec(container: string, handler: ExecHandler): void {
    this.execHandlers.set(container, handler);
  }

  /** Runs every controller once (the timer does this every tick). */
  tick(): void {
    for (const c of this.controllers) {
      try {
        c(this);
      } catch (error) {
        this.requests.push(`CONTROLLER-ERROR ${(error as Error).message}`);
      }
    }
    this.collectGarbage();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Creates or replaces an object as a seed (manager `e2e-seed`), status included. */
  put(object: FakeObject): void {
    const resource = this.resourceOf(object.apiVersion, object.kind);
    const key = this.key(resource, object.metadata.namespace, object.metadata.name);
    const before = this.objects.get(key);
    const obj = this.stamp(structuredClone(object) as Obj, resource, before?.object);
    this.store(key, { object: obj, managed: recordUpdate(before?.managed ?? [], before?.object, obj, SEED_MANAGER) }, before ? 'MODIFIED' : 'ADDED');
  }

  /** A copy of one object, or undefined. */
  read(ref: Ref): Obj | undefined {
    const found = this.objects.get(this.refKey(ref));
    return found && structuredClone(found.object);
  }

  /** Copies of every object of a kind (in a namespace). */
  all(apiVersion: string, kind: string, namespace?: string): Obj[] {
    const r = this.resourceOf(apiVersion, kind);
    const prefix = `${apiVersionOf(r)}/${r.plural}/${r.namespaced ? (namespace ?? '') : ''}`;
    return [...this.objects.entries()].filter(([k]) => k.startsWith(prefix)).map(([, s]) => structuredClone(s.object));
  }

  /** A controller's write to the main resource (an Update by `manager`); returns the stored object. */
  write(ref: Ref, manager: string, change: (o: Obj) => void): Obj | undefined {
    const key = this.refKey(ref);
    const found = this.objects.get(key);
    if (!found) return undefined;
    const next = structuredClone(found.object);
    change(next);
    const stamped = this.stamp(next, this.resourceOf(ref.apiVersion, ref.kind), found.object);
    this.store(key, { object: stamped, managed: recordUpdate(found.managed, found.object, stamped, manager) }, 'MODIFIED');
    return structuredClone(stamped);
  }

  /** A controller's create (an Update by `manager`). */
  create(object: Obj, manager: string): Obj {
    const meta = object.metadata as Obj;
    const resource = this.resourceOf(object.apiVersion as string, object.kind as string);
    const key = this.key(resource, meta.namespace as string | undefined, meta.name as string);
    if (this.objects.has(key)) throw new ApiError(409, 'AlreadyExists', `${resource.plural} "${String(meta.name)}" already exists`);
    const obj = this.stamp(structuredClone(object), resource, undefined);
    this.store(key, { object: obj, managed: recordUpdate([], undefined, obj, manager) }, 'ADDED');
    return structuredClone(obj);
  }

  /** The status subresource, written by a controller (no field ownership, no generation). */
  writeStatus(ref: Ref, status: Obj): void {
    const key = this.refKey(ref);
    const found = this.objects.get(key);
    if (!found) return;
    if (JSON.stringify(found.object.status) === JSON.stringify(status)) return;
    const next = { ...structuredClone(found.object), status: structuredClone(status) };
    this.store(key, { object: this.bump(next), managed: found.managed }, 'MODIFIED');
  }

  /** kustomize-controller's server-side apply of Git's object (takeover rule, forced). */
  fluxApply(desired: Obj): void {
    const meta = desired.metadata as Obj;
    const resource = this.resourceOf(desired.apiVersion as string, desired.kind as string);
    const key = this.key(resource, meta.namespace as string | undefined, meta.name as string);
    const found = this.objects.get(key);
    if (!found) {
      const obj = this.stamp(structuredClone(desired), resource, undefined);
      const applied = serverSideApply(undefined, [], obj, 'kustomize-controller', true) as { entries: fluxSsaModel.ManagedEntry[] };
      this.store(key, { object: obj, managed: applied.entries }, 'ADDED');
      return;
    }
    const { object, entries } = fluxSync(found.object, found.managed, desired);
    if (JSON.stringify(object) === JSON.stringify(found.object) && JSON.stringify(entries.map((e) => [e.manager, [...e.fields]])) === JSON.stringify(found.managed.map((e) => [e.manager, [...e.fields]]))) return;
    this.store(key, { object: this.stamp(object, resource, found.object), managed: entries }, 'MODIFIED');
  }

  /** Deletes as a DELETE request would (finalizers honoured); returns whether it existed. */
  remove(ref: Ref, propagation: 'Background' | 'Foreground' | 'Orphan' = 'Background'): boolean {
    const key = this.refKey(ref);
    const found = this.objects.get(key);
    if (!found) return false;
    this.deleteStored(key, found, propagation);
    return true;
  }

  /** The field managers of an object, as `manager/operation: fields`. */
  managers(ref: Ref): { manager: string; operation: string; fields: string[] }[] {
    return (this.objects.get(this.refKey(ref))?.managed ?? []).map((e) => ({ manager: e.manager, operation: e.operation, fields: [...e.fields].sort() }));
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

  // ---- storage ----

  private resourceOf(apiVersion: string, kind: string): Resource {
    const r = FAKE_RESOURCES.find((x) => apiVersionOf(x) === apiVersion && x.kind === kind);
    if (!r) throw new Error(`fake API ${this.cluster}: no resource for ${apiVersion} ${kind}`);
    return r;
  }

  private key(r: Resource, namespace: string | undefined, name: string): string {
    return `${apiVersionOf(r)}/${r.plural}/${r.namespaced ? (namespace ?? 'default') : ''}/${name}`;
  }

  private refKey(ref: Ref): string {
    return this.key(this.resourceOf(ref.apiVersion, ref.kind), ref.namespace, ref.name);
  }

  private bump(obj: Obj): Obj {
    this.revision += 1;
    (obj.metadata as Obj).resourceVersion = String(this.revision);
    return obj;
  }

  /** Server-set metadata: uid and creationTimestamp kept, generation +1 when anything but metadata/status changed. */
  private stamp(obj: Obj, resource: Resource, before: Obj | undefined): Obj {
    const meta = (obj.metadata ??= {}) as Obj;
    const old = (before?.metadata ?? {}) as Obj;
    meta.uid = old.uid ?? meta.uid ?? randomUUID();
    meta.creationTimestamp = old.creationTimestamp ?? meta.creationTimestamp ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    if (resource.namespaced) meta.namespace ??= 'default';
    else delete meta.namespace;
    if (old.deletionTimestamp) meta.deletionTimestamp = old.deletionTimestamp;
    const specOf = (o: Obj | undefined) => {
      if (!o) return undefined;
      const { metadata: _m, status: _s, ...rest } = o;
      return JSON.stringify(rest);
    };
    meta.generation = before ? (Number(old.generation ?? 1) + (specOf(before) !== specOf(obj) ? 1 : 0)) : 1;
    if (before && obj.status === undefined && before.status !== undefined && resource.subresources.includes('status')) obj.status = before.status;
    obj.apiVersion = apiVersionOf(resource);
    obj.kind = resource.kind;
    // The API server's defaulting for the one built-in default the tool reads.
    if (resource.kind === 'Deployment' && obj.spec && (obj.spec as Obj).replicas === undefined) (obj.spec as Obj).replicas = 1;
    return this.bump(obj);
  }

  private store(key: string, stored: Stored, type: WatchEvent['type']): void {
    this.objects.set(key, stored);
    this.emit({ rv: this.revision, type, key, object: structuredClone(stored.object) });
  }

  private emit(event: WatchEvent): void {
    this.events.push(event);
    if (this.events.length > 20_000) this.events.splice(0, 10_000);
    for (const w of this.watchers) if (event.key.startsWith(w.prefix) && w.match(event.object)) this.send(w, event);
  }

  private send(w: Watcher, event: WatchEvent): void {
    w.res.write(`${JSON.stringify({ type: event.type, object: this.render(event.object) })}\n`);
  }

  private deleteStored(key: string, found: Stored, propagation: 'Background' | 'Foreground' | 'Orphan'): Obj {
    const meta = found.object.metadata as Obj;
    const finalizers = [...((meta.finalizers as string[] | undefined) ?? [])];
    if (propagation === 'Foreground' && this.dependents(meta.uid as string).length > 0 && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
    if (propagation === 'Orphan') {
      for (const [k, d] of this.dependents(meta.uid as string)) {
        const next = structuredClone(d.object);
        (next.metadata as Obj).ownerReferences = ((next.metadata as Obj).ownerReferences as Obj[]).filter((o) => o.uid !== meta.uid);
        this.store(k, { object: this.bump(next), managed: d.managed }, 'MODIFIED');
      }
    }
    if (finalizers.length > 0) {
      const next = structuredClone(found.object);
      Object.assign(next.metadata as Obj, { finalizers, deletionTimestamp: (meta.deletionTimestamp as string | undefined) ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'), deletionGracePeriodSeconds: 0 });
      this.store(key, { object: this.bump(next), managed: found.managed }, 'MODIFIED');
      return next;
    }
    this.objects.delete(key);
    const gone = this.bump(structuredClone(found.object));
    this.emit({ rv: this.revision, type: 'DELETED', key, object: gone });
    return gone;
  }

  private dependents(uid: string): [string, Stored][] {
    return [...this.objects.entries()].filter(([, s]) => ((s.object.metadata as Obj).ownerReferences as Obj[] | undefined)?.some((o) => o.uid === uid));
  }

  /** The garbage collector: dependents of a gone owner go; a foreground owner goes when its dependents have. */
  private collectGarbage(): void {
    const uids = new Set([...this.objects.values()].map((s) => (s.object.metadata as Obj).uid as string));
    for (const [key, s] of [...this.objects.entries()]) {
      const meta = s.object.metadata as Obj;
      const owners = (meta.ownerReferences as Obj[] | undefined) ?? [];
      if (owners.length > 0 && owners.every((o) => !uids.has(o.uid as string)) && !meta.deletionTimestamp) this.deleteStored(key, s, 'Background');
      const finalizers = (meta.finalizers as string[] | undefined) ?? [];
      if (meta.deletionTimestamp && finalizers.includes('foregroundDeletion') && this.dependents(meta.uid as string).length === 0) {
        const next = structuredClone(s.object);
        (next.metadata as Obj).finalizers = finalizers.filter((f) => f !== 'foregroundDeletion');
        this.finishIfReleased(key, { object: next, managed: s.managed });
      } else if (meta.deletionTimestamp && finalizers.length > 0 && this.dependents(meta.uid as string).length > 0 && finalizers.includes('foregroundDeletion')) {
        for (const [k, d] of this.dependents(meta.uid as string)) if (!(d.object.metadata as Obj).deletionTimestamp) this.deleteStored(k, d, 'Background');
      }
    }
  }

  /** An object being deleted goes once its last finalizer is removed. */
  private finishIfReleased(key: string, stored: Stored): void {
    const meta = stored.object.metadata as Obj;
    if (meta.deletionTimestamp && ((meta.finalizers as string[] | undefined) ?? []).length === 0) {
      this.objects.delete(key);
      this.emit({ rv: ++this.revision, type: 'DELETED', key, object: stored.object });
      return;
    }
    this.store(key, { object: this.bump(stored.object), managed: stored.managed }, 'MODIFIED');
  }

  private render(obj: Obj): Obj {
    const key = this.keyOfObject(obj);
    const managed = key ? this.objects.get(key)?.managed : undefined;
    if (!managed) return obj;
    return { ...obj, metadata: { ...(obj.metadata as Obj), managedFields: renderManagedFields(managed, obj.apiVersion as string, ((obj.metadata as Obj).creationTimestamp as string) ?? '') } };
  }

  private keyOfObject(obj: Obj): string | undefined {
    try {
      const meta = obj.metadata as Obj;
      return this.key(this.resourceOf(obj.apiVersion as string, obj.kind as string), meta.namespace as string | undefined, meta.name as string);
    } catch {
      return undefined;
    }
  }

  // ---- HTTP ----

  private handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', this.url);
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    try {
      this.route(req, res, url, body);
    } catch (error) {
      if (error instanceof ApiError) return this.status(res, error.code, error.reason, error.message, error.details);
      this.status(res, 500, 'InternalError', `fake API ${this.cluster}: ${(error as Error).message}`);
    }
  }

  private json(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(code, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  private status(res: ServerResponse, code: number, reason: string, message: string, details?: Obj): void {
    this.json(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code });
  }

  private parsePath(path: string): { group: string; version: string; namespace?: string; plural?: string; name?: string; sub?: string } | undefined {
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))((?:\/[^/]+)*)$/.exec(path);
    if (!m) return undefined;
    const [, core, group = '', gv, rest = ''] = m;
    const segs = rest.split('/').filter(Boolean);
    const base = { group, version: core ?? gv! };
    if (segs[0] === 'namespaces' && segs.length >= 3) return { ...base, namespace: segs[1], plural: segs[2], name: segs[3], sub: segs[4] };
    return { ...base, plural: segs[0], name: segs[1], sub: segs[2] };
  }

  private route(req: IncomingMessage, res: ServerResponse, url: URL, body: string): void {
    const path = url.pathname.replace(/\/$/, '');
    const method = req.method ?? 'GET';
    if (path === '/readyz' || path === '/livez' || path === '/healthz') {
      if (method !== 'GET') throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      return;
    }
    if (path === '/version') return this.json(res, 200, { major: '1', minor: '32', gitVersion: 'v1.32.0-e2e-fake', platform: 'linux/amd64' });
    if (path === '/openapi/v3') return this.json(res, 200, { paths: Object.fromEntries([...new Set(FAKE_RESOURCES.map((r) => apiVersionOf(r)))].map((gv) => [gv === 'v1' ? 'api/v1' : `apis/${gv}`, { serverRelativeURL: `/openapi/v3/${gv === 'v1' ? 'api/v1' : `apis/${gv}`}?hash=${this.cluster}` }])) });
    if (path.startsWith('/openapi/v3/')) return this.openApi(res, path.slice('/openapi/v3/'.length));
    if (path === '/api') return this.json(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    if (path === '/apis') {
      const groups = [...new Set(FAKE_RESOURCES.filter((r) => r.group).map((r) => apiVersionOf(r)))].map((gv) => {
        const [name, version] = gv.split('/') as [string, string];
        return { name, versions: [{ groupVersion: gv, version }], preferredVersion: { groupVersion: gv, version } };
      });
      return this.json(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups });
    }
    const p = this.parsePath(path);
    if (!p) throw new ApiError(404, 'NotFound', `the server could not find the requested resource`);
    if (!p.plural) {
      const resources = FAKE_RESOURCES.filter((r) => r.group === p.group && r.version === p.version);
      if (resources.length === 0) throw new ApiError(404, 'NotFound', `the server could not find the requested resource`);
      return this.json(res, 200, {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: apiVersionOf(p),
        resources: resources.flatMap((r) => [
          { name: r.plural, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], ...(r.shortNames ? { shortNames: r.shortNames } : {}) },
          ...r.subresources.map((s) =>
            s === 'scale'
              ? { name: `${r.plural}/scale`, singularName: '', namespaced: r.namespaced, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] }
              : s === 'exec'
                ? { name: `${r.plural}/exec`, singularName: '', namespaced: r.namespaced, kind: 'PodExecOptions', verbs: ['create', 'get'] }
                : { name: `${r.plural}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] },
          ),
        ]),
      });
    }
    const resource = FAKE_RESOURCES.find((r) => r.group === p.group && r.version === p.version && r.plural === p.plural);
    if (!resource) throw new ApiError(404, 'NotFound', `the server could not find the requested resource`);
    if (p.sub && !resource.subresources.includes(p.sub as 'status')) throw new ApiError(404, 'NotFound', `the server could not find the requested resource`);
    if (p.sub === 'exec') throw new ApiError(400, 'BadRequest', 'Upgrade request required');
    const kindName = `${resource.plural}${resource.group ? `.${resource.group}` : ''}`;
    const notFound = (name: string) => new ApiError(404, 'NotFound', `${kindName} "${name}" not found`, { name, group: resource.group, kind: resource.plural });
    if (!p.name) {
      if (method === 'GET') return url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1' ? this.watch(res, resource, p.namespace, url) : this.list(res, resource, p.namespace, url);
      if (method === 'POST') return this.createRequest(res, resource, p.namespace, url, body, req);
      throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    }
    const key = this.key(resource, p.namespace, p.name);
    const found = this.objects.get(key);
    if (method === 'GET') {
      if (!found) throw notFound(p.name);
      return this.json(res, 200, p.sub === 'scale' ? this.scaleOf(resource, found.object) : this.render(found.object));
    }
    if (method === 'DELETE') {
      if (!found) throw notFound(p.name);
      const options = body.trim() ? (JSON.parse(body) as { propagationPolicy?: string; preconditions?: { uid?: string } }) : {};
      const policy = (options.propagationPolicy ?? url.searchParams.get('propagationPolicy') ?? 'Background') as 'Background' | 'Foreground' | 'Orphan';
      if (!['Background', 'Foreground', 'Orphan'].includes(policy)) throw new ApiError(422, 'Invalid', `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}"`);
      if (options.preconditions?.uid && options.preconditions.uid !== (found.object.metadata as Obj).uid) throw new ApiError(409, 'Conflict', `Precondition failed: UID in precondition: ${options.preconditions.uid}, UID in object meta: ${String((found.object.metadata as Obj).uid)}`);
      return this.json(res, 200, this.render(this.deleteStored(key, found, policy)));
    }
    if (method === 'PUT') return this.replace(res, resource, key, found, p, body, url, req);
    if (method === 'PATCH') return this.patch(res, resource, key, found, p, body, url, req);
    throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
  }

  /**
   * One group version's OpenAPI v3 document, as much of it as kubectl reads: every write path
   * takes `fieldValidation` (so kubectl validates server-side), and each kind's schema with its
   * group-version-kind: a custom resource's from its CRD, a built-in kind's as an open object
   * (the fake does not carry the core schemas; it does not validate built-in kinds' fields).
   */
  private openApi(res: ServerResponse, gvPath: string): void {
    const gv = gvPath.replace(/^api\//, '').replace(/^apis\//, '');
    const resources = FAKE_RESOURCES.filter((r) => apiVersionOf(r) === gv);
    if (resources.length === 0) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    const fieldValidation = { name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } };
    const paths: Obj = {};
    const schemas: Obj = {};
    for (const r of resources) {
      const base = r.group ? `/apis/${gv}` : '/api/v1';
      const collection = r.namespaced ? `${base}/namespaces/{namespace}/${r.plural}` : `${base}/${r.plural}`;
      const ref = `${r.group || 'core'}.${r.version}.${r.kind}`;
      const gvk = [{ group: r.group, version: r.version, kind: r.kind }];
      const op = (action: string, params: Obj[] = []) => ({ parameters: params, 'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': gvk[0], responses: { '200': { description: 'OK', content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } } } } });
      paths[collection] = { post: op('post', [fieldValidation]), get: op('list') };
      paths[`${collection}/{name}`] = { get: op('get'), put: op('put', [fieldValidation]), patch: op('patch', [fieldValidation]), delete: op('delete') };
      const crd = this.options.schemas?.get(`${r.plural}.${r.group}`);
      schemas[ref] = { ...(crd ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }), 'x-kubernetes-group-version-kind': gvk };
    }
    this.json(res, 200, { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0-e2e-fake' }, paths, components: { schemas } });
  }

  private manager(url: URL, req: IncomingMessage, fallback?: string): string {
    const m = url.searchParams.get('fieldManager');
    if (m) {
      if (m.length > 128) throw new ApiError(422, 'Invalid', `fieldManager: Too long: may not be more than 128 bytes`);
      return m;
    }
    if (fallback) return fallback;
    return (req.headers['user-agent'] ?? 'unknown').split('/')[0]!;
  }

  private filter(url: URL): (o: Obj) => boolean {
    const labels = url.searchParams.get('labelSelector');
    const fields = url.searchParams.get('fieldSelector');
    const terms = (labels ? labels.split(',') : []).map((t) => {
      const neq = /^([^!=]+)!=(.*)$/.exec(t);
      if (neq) return (l: Record<string, string>) => l[neq[1]!] !== neq[2];
      const eq = /^([^!=]+)==?(.*)$/.exec(t);
      if (eq) return (l: Record<string, string>) => l[eq[1]!] === eq[2];
      if (t.startsWith('!')) return (l: Record<string, string>) => !(t.slice(1) in l);
      if (/^[A-Za-z0-9./_-]+$/.test(t)) return (l: Record<string, string>) => t in l;
      throw new ApiError(400, 'BadRequest', `unable to parse requirement: ${t}`);
    });
    const fieldTerms = (fields ? fields.split(',') : []).map((t) => {
      const m = /^(metadata\.name|metadata\.namespace)(!=|==?)(.*)$/.exec(t);
      if (!m) throw new ApiError(400, 'BadRequest', `field label not supported: ${t.split(/[!=]/)[0]}`);
      return (o: Obj) => (((o.metadata as Obj)[m[1]!.slice('metadata.'.length)] === m[3]) === (m[2] !== '!='));
    });
    return (o) => {
      const l = ((o.metadata as Obj).labels as Record<string, string> | undefined) ?? {};
      return terms.every((f) => f(l)) && fieldTerms.every((f) => f(o));
    };
  }

  private prefix(resource: Resource, namespace: string | undefined): string {
    return `${apiVersionOf(resource)}/${resource.plural}/${resource.namespaced && namespace ? `${namespace}/` : ''}`;
  }

  private list(res: ServerResponse, resource: Resource, namespace: string | undefined, url: URL): void {
    const match = this.filter(url);
    const prefix = this.prefix(resource, namespace);
    const items = [...this.objects.entries()].filter(([k, s]) => k.startsWith(prefix) && match(s.object)).map(([, s]) => this.render(s.object));
    this.json(res, 200, { kind: `${resource.kind}List`, apiVersion: apiVersionOf(resource), metadata: { resourceVersion: String(this.revision) }, items });
  }

  private watch(res: ServerResponse, resource: Resource, namespace: string | undefined, url: URL): void {
    const match = this.filter(url);
    const w: Watcher = { prefix: this.prefix(resource, namespace), match, res };
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const from = url.searchParams.get('resourceVersion');
    if (!from || from === '0') {
      for (const [key, s] of this.objects) if (key.startsWith(w.prefix) && match(s.object)) this.send(w, { rv: this.revision, type: 'ADDED', key, object: s.object });
    } else {
      const rv = Number(from);
      if (this.events.length > 0 && this.events[0]!.rv > rv + 1 && rv < this.revision) {
        res.write(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${rv} (${this.events[0]!.rv - 1})`, reason: 'Expired', code: 410 } })}\n`);
        return void res.end();
      }
      for (const e of this.events) if (e.rv > rv && e.key.startsWith(w.prefix) && match(e.object)) this.send(w, e);
    }
    this.watchers.add(w);
    const timeout = Number(url.searchParams.get('timeoutSeconds') ?? '1800');
    const timer = setTimeout(() => res.end(), timeout * 1000);
    const done = () => (clearTimeout(timer), this.watchers.delete(w));
    res.on('close', done);
  }

  private decode(body: string, contentType: string): unknown {
    try {
      return contentType.includes('yaml') ? parseYaml(body) : JSON.parse(body);
    } catch (error) {
      throw new ApiError(400, 'BadRequest', `error decoding request body: ${(error as Error).message}`);
    }
  }

  /** Schema validation of a custom resource: 422 under fieldValidation=Strict, else pruned. */
  private validated(resource: Resource, obj: Obj, url: URL): { obj: Obj; warnings: string[] } {
    const schema = this.options.schemas?.get(`${resource.plural}.${resource.group}`);
    if (!schema) return { obj, warnings: [] };
    const errors = schemaErrors(schema, obj);
    const unknown = errors.filter((e) => e.startsWith('unknown field'));
    const invalid = errors.filter((e) => !e.startsWith('unknown field'));
    const name = String((obj.metadata as Obj | undefined)?.name ?? '');
    if (invalid.length > 0) throw new ApiError(422, 'Invalid', `${resource.kind}.${resource.group} "${name}" is invalid: ${invalid.join(', ')}`, { name, group: resource.group, kind: resource.kind, causes: invalid.map((message) => ({ reason: 'FieldValueInvalid', message })) });
    const denied = this.admission.get(`${resource.plural}.${resource.group}`)?.(obj) ?? [];
    if (denied.length > 0) throw new ApiError(422, 'Invalid', `admission webhook denied the request: ${resource.kind}.${resource.group} "${name}" is invalid: ${denied.join(', ')}`, { name, group: resource.group, kind: resource.kind, causes: denied.map((message) => ({ reason: 'FieldValueInvalid', message })) });
    if (unknown.length > 0 && url.searchParams.get('fieldValidation') === 'Strict') {
      throw new ApiError(422, 'Invalid', `${resource.kind} in version "${resource.version}" cannot be handled as a ${resource.kind}: strict decoding error: ${unknown.join(', ')}`);
    }
    const pruned = structuredClone(obj);
    for (const u of unknown) {
      const path = /unknown field "(.*)"/.exec(u)![1]!;
      if (!path.includes('[')) {
        const parts = path.split('.');
        let cur: Obj | undefined = pruned;
        for (const part of parts.slice(0, -1)) cur = cur?.[part] as Obj | undefined;
        if (cur) delete cur[parts[parts.length - 1]!];
      }
    }
    return { obj: pruned, warnings: url.searchParams.get('fieldValidation') === 'Warn' ? unknown : [] };
  }

  private checkIdentity(resource: Resource, obj: Obj, namespace: string | undefined, name?: string): void {
    if (obj.apiVersion !== apiVersionOf(resource) || obj.kind !== resource.kind) {
      throw new ApiError(400, 'BadRequest', `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersionOf(resource)}) or kind ${String(obj.kind)} ≠ ${resource.kind}`);
    }
    const meta = (obj.metadata ?? {}) as Obj;
    if (!meta.name) throw new ApiError(422, 'Invalid', `${resource.kind} "" is invalid: metadata.name: Required value: name or generateName is required`);
    if (name !== undefined && meta.name !== name) throw new ApiError(400, 'BadRequest', `the name of the object (${String(meta.name)}) does not match the name on the URL (${name})`);
    if (resource.namespaced && meta.namespace !== undefined && namespace !== undefined && meta.namespace !== namespace) {
      throw new ApiError(400, 'BadRequest', `the namespace of the provided object does not match the namespace sent on the request`);
    }
    if (resource.namespaced && namespace && !this.objects.has(`v1/namespaces//${namespace}`)) {
      throw new ApiError(404, 'NotFound', `namespaces "${namespace}" not found`, { name: namespace, kind: 'namespaces' });
    }
  }

  private respondWritten(res: ServerResponse, code: number, stored: Stored, warnings: string[], dryRun: boolean): void {
    const headers: Record<string, string> = warnings.length ? { warning: warnings.map((w) => `299 - "${w}"`).join(', ') } : {};
    this.json(res, code, dryRun ? stored.object : this.render(stored.object), headers);
  }

  private createRequest(res: ServerResponse, resource: Resource, namespace: string | undefined, url: URL, body: string, req: IncomingMessage): void {
    const raw = this.decode(body, String(req.headers['content-type'] ?? 'application/json')) as Obj;
    this.checkIdentity(resource, raw, namespace);
    const { obj, warnings } = this.validated(resource, raw, url);
    const meta = obj.metadata as Obj;
    if (namespace) meta.namespace = namespace;
    const key = this.key(resource, meta.namespace as string | undefined, meta.name as string);
    if (this.objects.has(key)) throw new ApiError(409, 'AlreadyExists', `${resource.plural}${resource.group ? `.${resource.group}` : ''} "${String(meta.name)}" already exists`, { name: meta.name as string, group: resource.group, kind: resource.plural });
    delete obj.status;
    const dryRun = url.searchParams.get('dryRun') === 'All';
    const stamped = this.stamp(structuredClone(obj), resource, undefined);
    const stored = { object: stamped, managed: recordUpdate([], undefined, stamped, this.manager(url, req)) };
    if (!dryRun) this.store(key, stored, 'ADDED');
    this.respondWritten(res, 201, stored, warnings, dryRun);
  }

  private replace(res: ServerResponse, resource: Resource, key: string, found: Stored | undefined, p: { namespace?: string; name?: string; sub?: string }, body: string, url: URL, req: IncomingMessage): void {
    if (!found) throw new ApiError(404, 'NotFound', `${resource.plural} "${p.name}" not found`);
    const raw = this.decode(body, String(req.headers['content-type'] ?? 'application/json')) as Obj;
    const rv = (raw.metadata as Obj | undefined)?.resourceVersion;
    if (rv !== undefined && rv !== (found.object.metadata as Obj).resourceVersion) {
      throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${resource.plural} "${p.name}": the object has been modified; please apply your changes to the latest version and try again`);
    }
    if (p.sub === 'scale') return this.writeScale(res, resource, key, found, (raw.spec as Obj | undefined)?.replicas, url, req);
    this.checkIdentity(resource, raw, p.namespace, p.name);
    const { obj, warnings } = this.validated(resource, raw, url);
    this.commit(res, resource, key, found, p.sub === 'status' ? { ...found.object, status: obj.status } : { ...obj, status: found.object.status }, this.manager(url, req), p.sub, warnings, url);
  }

  private patch(res: ServerResponse, resource: Resource, key: string, found: Stored | undefined, p: { namespace?: string; name?: string; sub?: string }, body: string, url: URL, req: IncomingMessage): void {
    const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim();
    const accepted = 'application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml' + (resource.builtin ? ', application/strategic-merge-patch+json' : '');
    if (type === 'application/apply-patch+yaml' || type === 'application/apply-patch+cbor') return this.apply(res, resource, key, found, p, body, url);
    if (!['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'].includes(type) || (type === 'application/strategic-merge-patch+json' && !resource.builtin)) {
      throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted}`);
    }
    if (!found) throw new ApiError(404, 'NotFound', `${resource.plural}${resource.group ? `.${resource.group}` : ''} "${p.name}" not found`, { name: p.name!, group: resource.group, kind: resource.plural });
    const patchBody = this.decode(body, 'application/json');
    const base = p.sub === 'scale' ? this.scaleOf(resource, found.object) : structuredClone(found.object);
    const patched = (type === 'application/json-patch+json' ? jsonPatch(base, patchBody) : type === 'application/merge-patch+json' ? mergePatch(base, patchBody) : strategicMergePatch(base, patchBody)) as Obj;
    if (patched === null || typeof patched !== 'object') throw new ApiError(422, 'Invalid', 'the patch does not result in an object');
    if (p.sub === 'scale') return this.writeScale(res, resource, key, found, (patched.spec as Obj | undefined)?.replicas, url, req);
    this.checkIdentity(resource, patched, p.namespace, p.name);
    const { obj, warnings } = this.validated(resource, patched, url);
    const rv = (obj.metadata as Obj).resourceVersion;
    if (rv !== (found.object.metadata as Obj).resourceVersion) throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${resource.plural} "${p.name}": the object has been modified; please apply your changes to the latest version and try again`);
    this.commit(res, resource, key, found, p.sub === 'status' ? { ...found.object, status: obj.status } : { ...obj, status: found.object.status }, this.manager(url, req), p.sub, warnings, url);
  }

  private commit(res: ServerResponse, resource: Resource, key: string, found: Stored, next: Obj, manager: string, sub: string | undefined, warnings: string[], url: URL): void {
    if (next.status === undefined) delete next.status;
    const stamped = this.stamp(structuredClone(next), resource, found.object);
    const stored = { object: stamped, managed: recordUpdate(found.managed, found.object, stamped, manager, sub) };
    const dryRun = url.searchParams.get('dryRun') === 'All';
    if (!dryRun) this.finishIfReleased(key, stored);
    this.respondWritten(res, 200, stored, warnings, dryRun);
  }

  private scaleOf(resource: Resource, obj: Obj): Obj {
    const meta = obj.metadata as Obj;
    const spec = (obj.spec ?? {}) as Obj;
    const status = (obj.status ?? {}) as Obj;
    const selector = (spec.selector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels;
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name: meta.name, namespace: meta.namespace, uid: meta.uid, resourceVersion: meta.resourceVersion, creationTimestamp: meta.creationTimestamp },
      spec: { replicas: resource.kind === 'Cluster' ? spec.instances : (spec.replicas ?? 1) },
      status: { replicas: Number(status.replicas ?? status.instances ?? 0), selector: selector ? Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',') : '' },
    };
  }

  private writeScale(res: ServerResponse, resource: Resource, key: string, found: Stored, replicas: unknown, url: URL, req: IncomingMessage): void {
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw new ApiError(422, 'Invalid', `Scale.autoscaling "${String((found.object.metadata as Obj).name)}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`);
    }
    const next = structuredClone(found.object);
    (next.spec as Obj)[resource.kind === 'Cluster' ? 'instances' : 'replicas'] = replicas;
    const stamped = this.stamp(next, resource, found.object);
    this.store(key, { object: stamped, managed: recordUpdate(found.managed, found.object, stamped, this.manager(url, req), 'scale') }, 'MODIFIED');
    this.json(res, 200, this.scaleOf(resource, stamped));
  }

  private apply(res: ServerResponse, resource: Resource, key: string, found: Stored | undefined, p: { namespace?: string; name?: string; sub?: string }, body: string, url: URL): void {
    const manager = url.searchParams.get('fieldManager');
    if (!manager) throw new ApiError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
    if (p.sub) throw new ApiError(405, 'MethodNotAllowed', 'the fake API serves apply on the main resource only');
    const raw = this.decode(body, 'application/yaml') as Obj;
    this.checkIdentity(resource, raw, p.namespace, p.name);
    const { obj, warnings } = this.validated(resource, raw, url);
    if ((obj.metadata as Obj).resourceVersion !== undefined && found && (obj.metadata as Obj).resourceVersion !== (found.object.metadata as Obj).resourceVersion) {
      throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${resource.plural} "${p.name}": the object has been modified; please apply your changes to the latest version and try again`);
    }
    const force = url.searchParams.get('force') === 'true';
    const result = serverSideApply(found?.object, found?.managed ?? [], obj, manager, force);
    if ('conflicts' in result) {
      const message = `Apply failed with ${result.conflicts.length} conflict${result.conflicts.length === 1 ? '' : 's'}: ${result.conflicts.map((c) => `conflict with "${c.manager}": .${c.field}`).join('\n')}`;
      throw new ApiError(409, 'Conflict', message, { causes: result.conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager}"`, field: `.${c.field}` })) });
    }
    const stamped = this.stamp(result.object, resource, found?.object);
    if (found?.object.status !== undefined) stamped.status = found.object.status;
    const stored = { object: stamped, managed: result.entries };
    const dryRun = url.searchParams.get('dryRun') === 'All';
    if (!dryRun) this.store(key, stored, found ? 'MODIFIED' : 'ADDED');
    this.respondWritten(res, found ? 200 : 201, stored, warnings, dryRun);
  }

  // ---- exec over WebSocket ----

  private upgrade(req: IncomingMessage, socket: Socket): void {
    const url = new URL(req.url ?? '/', this.url);
    this.requests.push(`${req.method} ${url.pathname}${url.search} (upgrade)`);
    const reject = (code: number, reason: string, message: string) => {
      const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
      socket.end(`HTTP/1.1 ${code} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    };
    const p = this.parsePath(url.pathname);
    if (!p || p.plural !== 'pods' || p.sub !== 'exec' || !p.name) return reject(404, 'NotFound', 'the server could not find the requested resource');
    const pod = this.objects.get(this.key(FAKE_RESOURCES.find((r) => r.plural === 'pods')!, p.namespace, p.name))?.object;
    if (!pod) return reject(404, 'NotFound', `pods "${p.name}" not found`);
    const containers = (((pod.spec as Obj | undefined)?.containers as Obj[] | undefined) ?? []).map((c) => c.name as string);
    const container = url.searchParams.get('container') ?? containers[0] ?? '';
    if (!containers.includes(container)) return reject(400, 'BadRequest', `container ${container} is not valid for pod ${p.name}`);
    if ((pod.status as Obj | undefined)?.phase !== 'Running') return reject(400, 'BadRequest', `unable to upgrade connection: container not found ("${container}")`);
    const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
    const protocol = ['v5.channel.k8s.io', 'v4.channel.k8s.io'].find((x) => offered.includes(x));
    if (!protocol || String(req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return reject(400, 'BadRequest', `unable to upgrade connection: the fake API speaks websocket v5/v4.channel.k8s.io only (offered ${offered.join(', ') || 'none'})`);
    const accept = createHash('sha1').update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    const handler = this.execHandlers.get(container);
    const result = handler ? handler(structuredClone(pod), container, url.searchParams.getAll('command')) : { stdout: '', stderr: `exec: "${url.searchParams.getAll('command')[0] ?? ''}": executable file not found in $PATH`, exitCode: 126 };
    // A real exec answers only after the runtime started the process, never in the same write as the
    // 101. kubectl 1.32's WebSocket executor reads before it has registered its stdout/stderr streams
    // and drops a frame that comes first ("Unknown stream id 2, discarding message"; client-go later
    // waits for its streams): answering at once lost psql's stderr under load.
    setTimeout(() => this.answerExec(socket, result), EXEC_START_MS);
  }

  private answerExec(socket: Socket, result: ExecResult): void {
    const frame = (opcode: number, payload: Buffer) => {
      const len = payload.length;
      const head = len < 126 ? Buffer.from([0x80 | opcode, len]) : len < 65536 ? Buffer.from([0x80 | opcode, 126, len >> 8, len & 255]) : Buffer.concat([Buffer.from([0x80 | opcode, 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(len)); return b; })()]);
      socket.write(Buffer.concat([head, payload]));
    };
    const channel = (n: number, text: string) => frame(0x2, Buffer.concat([Buffer.from([n]), Buffer.from(text)]));
    if (result.stdout) channel(1, result.stdout);
    if (result.stderr) channel(2, result.stderr);
    channel(
      3,
      JSON.stringify(
        result.exitCode === 0
          ? { metadata: {}, status: 'Success' }
          : { metadata: {}, status: 'Failure', message: `command terminated with non-zero exit code: error executing command, exit status ${result.exitCode}`, reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: String(result.exitCode) }] } },
      ),
    );
    frame(0x8, Buffer.from([0x03, 0xe8]));
    setTimeout(() => socket.end(), 50);
  }
}

