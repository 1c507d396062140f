/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are read field by field */
/**
 * A small model of what decides whether a Flux `apps` layer with `wait: true` becomes Ready:
 * which Secrets the CloudNativePG operator writes for a `Cluster`, and the kstatus rules Flux's
 * health check applies to the objects the layer applies.
 *
 * CloudNativePG (api/v1/cluster_funcs.go, internal/controller/cluster_create.go, 1.2x–1.30):
 * - `<name>-ca`, `<name>-server`, `<name>-replication` always; `<name>-superuser` only with
 *   `enableSuperuserAccess: true` (off by default).
 * - the application Secret (`bootstrap.<method>.secret.name`, else `<name>-app`) only when the
 *   bootstrap method names an owner and a database, no `secret` is given, and, for `recovery`
 *   and `pg_basebackup`, the cluster is not a replica (`spec.replica.enabled: true`, or
 *   `replica.primary` naming another cluster than `replica.self`/its own name). A replica
 *   cluster gets no application Secret until it is promoted; then the operator creates it with
 *   a new password and the primary's instance manager sets the owner's password from it.
 * - with no `bootstrap` at all, the defaulting webhook sets `initdb` with database and owner `app`.
 *
 * kstatus (sigs.k8s.io/cli-utils pkg/kstatus/status, what kustomize-controller's `wait` uses):
 * a Deployment is Current when its replicas (`spec.replicas`, default 1) are all updated,
 * available and ready; a Pod that reads a missing, non-optional Secret through `env`/`envFrom`
 * stays in CreateContainerConfigError (through a volume: ContainerCreating) and never becomes
 * ready. A PodDisruptionBudget is Current when its currently healthy pods reach the desired
 * count (expected pods − maxUnavailable, never below 0). An HPA does not scale a Deployment at 0
 * replicas (scaling is disabled); above 0 it raises it to its minimum. Secrets, ConfigMaps,
 * Services, Ingresses and kinds without conditions are Current; a CloudNativePG Cluster is taken
 * as Ready (its operator and storage are outside this model).
 */

export type Obj = { apiVersion?: string; kind: string; metadata: { name: string; namespace?: string }; spec?: Record<string, any> };

const CNPG_API = 'postgresql.cnpg.io/v1';
const key = (namespace: string | undefined, name: string) => `${namespace ?? 'default'}/${name}`;

/** Whether CloudNativePG treats the Cluster as a replica cluster. */
export function isReplicaCluster(cluster: Obj): boolean {
  const replica = cluster.spec?.replica as { enabled?: boolean; primary?: string; self?: string } | undefined;
  if (!replica) return false;
  if (replica.enabled !== undefined) return replica.enabled;
  return (replica.self || cluster.metadata.name) !== replica.primary;
}

/** The Secrets (namespace/name) the operator writes for one CNPG Cluster, as it stands. */
export function cnpgOperatorSecrets(cluster: Obj): string[] {
  const { name, namespace } = cluster.metadata;
  const secrets = ['ca', 'server', 'replication'].map((s) => key(namespace, `${name}-${s}`));
  if (cluster.spec?.enableSuperuserAccess === true) secrets.push(key(namespace, `${name}-superuser`));
  const bootstrap = (cluster.spec?.bootstrap ?? { initdb: { database: 'app', owner: 'app' } }) as Record<string, { database?: string; owner?: string; secret?: { name?: string } } | undefined>;
  const creates = (['initdb', 'recovery', 'pg_basebackup'] as const).some((method) => {
    const b = bootstrap[method];
    if (!b || !b.owner || !b.database || b.secret?.name) return false;
    return method === 'initdb' || !isReplicaCluster(cluster);
  });
  if (creates) secrets.push(key(namespace, `${name}-app`));
  return secrets;
}

/** What exists besides the layer's own objects: Secrets written out of band (e.g. by node bootstrap). */
export interface LiveState {
  readonly externalSecrets: readonly string[];
}

export interface ObjectStatus {
  readonly id: string;
  readonly current: boolean;
  readonly message: string;
}

const secretRefs = (podSpec: any): { ref: string; how: 'env' | 'volume' }[] => {
  const refs: { ref: string; how: 'env' | 'volume' }[] = [];
  for (const c of [...(podSpec?.initContainers ?? []), ...(podSpec?.containers ?? [])]) {
    for (const e of c.env ?? []) {
      const s = e.valueFrom?.secretKeyRef;
      if (s && s.optional !== true) refs.push({ ref: s.name, how: 'env' });
    }
    for (const e of c.envFrom ?? []) if (e.secretRef && e.secretRef.optional !== true) refs.push({ ref: e.secretRef.name, how: 'env' });
  }
  for (const v of podSpec?.volumes ?? []) if (v.secret && v.secret.optional !== true) refs.push({ ref: v.secret.secretName, how: 'volume' });
  return refs;
};

const matches = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  selector !== undefined && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/**
 * Flux `wait: true` over one layer's objects: every object's kstatus, and whether the
 * Kustomization becomes Ready. Secrets are the layer's own, the operator's for its CNPG
 * Clusters, and `live.externalSecrets`.
 */
export function fluxWait(objects: readonly Obj[], live: LiveState): { ready: boolean; statuses: ObjectStatus[] } {
  const secrets = new Set<string>(live.externalSecrets);
  for (const o of objects) {
    if (o.kind === 'Secret') secrets.add(key(o.metadata.namespace, o.metadata.name));
    if (o.apiVersion === CNPG_API && o.kind === 'Cluster') for (const s of cnpgOperatorSecrets(o)) secrets.add(s);
  }
  const id = (o: Obj) => `${o.kind}/${key(o.metadata.namespace, o.metadata.name)}`;
  // Ready pods per Deployment, after the HPA acted.
  const ready = new Map<string, { labels: Record<string, string>; desired: number; ready: number; waitingFor?: string }>();
  for (const d of objects.filter((o) => o.kind === 'Deployment')) {
    const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.namespace === d.metadata.namespace && o.spec?.scaleTargetRef?.kind === 'Deployment' && o.spec.scaleTargetRef.name === d.metadata.name);
    const declared = (d.spec?.replicas as number | undefined) ?? 1;
    const desired = hpa && declared > 0 ? Math.max(declared, (hpa.spec?.minReplicas as number | undefined) ?? 1) : declared;
    const missing = secretRefs(d.spec?.template?.spec).find((r) => !secrets.has(key(d.metadata.namespace, r.ref)));
    const waitingFor = missing ? `Secret/${key(d.metadata.namespace, missing.ref)} (${missing.how === 'env' ? 'CreateContainerConfigError' : 'ContainerCreating'})` : undefined;
    ready.set(id(d), { labels: d.spec?.template?.metadata?.labels ?? {}, desired, ready: missing ? 0 : desired, ...(waitingFor ? { waitingFor } : {}) });
  }
  const statuses = objects.map((o): ObjectStatus => {
    if (o.kind === 'Deployment') {
      const r = ready.get(id(o))!;
      if (r.ready < r.desired) return { id: id(o), current: false, message: `Available: ${r.ready}/${r.desired}, pods wait for ${r.waitingFor}` };
      return { id: id(o), current: true, message: `Deployment is available. Replicas: ${r.desired}` };
    }
    if (o.kind === 'PodDisruptionBudget') {
      const pods = [...ready.values()].filter((r) => matches(o.spec?.selector?.matchLabels, r.labels));
      const expected = pods.reduce((s, r) => s + r.desired, 0);
      const healthy = pods.reduce((s, r) => s + r.ready, 0);
      const desired = o.spec?.maxUnavailable !== undefined ? Math.max(0, expected - Number(o.spec.maxUnavailable)) : Number(o.spec?.minAvailable ?? 0);
      return healthy >= desired ? { id: id(o), current: true, message: `Budget is met. healthy ${healthy} ≥ ${desired}` } : { id: id(o), current: false, message: `Budget not met. healthy ${healthy} < ${desired}` };
    }
    return { id: id(o), current: true, message: 'Current' };
  });
  return { ready: statuses.every((s) => s.current), statuses };
}

/**
 * What packages/failover's promotion does to the standby's `apps` objects (Flux suspended):
 * `spec.replica.primary` = itself on the CNPG Cluster (`enabled: false` for the standalone form), then every Deployment below one replica per
 * zone scaled to the zone count (verify-app).
 */
export function promote(objects: readonly Obj[], zones: number): Obj[] {
  return objects.map((o) => {
    if (o.apiVersion === CNPG_API && o.kind === 'Cluster') {
      // As the tool does: the standalone form is switched off, a distributed topology names itself primary.
      const replica = (o.spec?.replica ?? {}) as { enabled?: boolean; self?: string };
      const promoted = replica.enabled !== undefined ? { enabled: false } : { primary: replica.self ?? (o.metadata as { name?: string } | undefined)?.name };
      return { ...o, spec: { ...o.spec, replica: { ...replica, ...promoted } } };
    }
    if (o.kind === 'Deployment' && ((o.spec?.replicas as number | undefined) ?? 1) < zones) return { ...o, spec: { ...o.spec, replicas: zones } };
    return o;
  });
}
