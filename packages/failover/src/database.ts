import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * Names used when clusters/<primary>/ holds no CloudNativePG Cluster yet. The manifests in
 * packages/k8s-addons must use these (or the script reads theirs from the generated YAML).
 */
export const DEFAULT_WORKLOAD = { namespace: 'data', database: 'orders', appNamespace: 'web', deployment: 'web' } as const;

const CNPG_API = 'postgresql.cnpg.io/v1';
/** Spec fields carried from the primary's definition to the restored cluster (placement, size, tuning). */
const CARRIED_SPEC_FIELDS = ['instances', 'imageName', 'storage', 'walStorage', 'postgresql', 'resources', 'affinity', 'topologySpreadConstraints', 'enablePDB', 'primaryUpdateStrategy', 'primaryUpdateMethod', 'managed'];
/**
 * Spec fields that give the instances their AWS identity (service-account annotation, web-identity
 * variables, projected STS token): taken from the TARGET cluster's own generated Cluster, because
 * each cluster's role trusts only its own issuer (a primary's role ARN would not work on the standby).
 */
const IDENTITY_SPEC_FIELDS = ['serviceAccountTemplate', 'env', 'projectedVolumeTemplate'];

type Obj = Record<string, unknown>;

/** The in-tree Barman object store stanza of a CNPG Cluster (`spec.backup.barmanObjectStore`). */
export interface BarmanStore {
  readonly destinationPath: string;
  readonly serverName?: string;
  readonly s3Credentials?: Obj;
  readonly endpointURL?: string;
  readonly wal?: Obj;
  readonly data?: Obj;
}

export interface Workload {
  /** The CNPG Cluster's namespace and name. */
  readonly namespace: string;
  readonly database: string;
  /** The sample app's Deployment (served through the ingress). */
  readonly appNamespace: string;
  readonly deployment: string;
  /** Every Deployment of the `apps/` layer (namespace/name order): what fencing scales to zero. */
  readonly apps: readonly { readonly namespace: string; readonly name: string }[];
  /** The primary's CNPG Cluster spec, as generated (empty when defaults are used). */
  readonly databaseSpec: Obj;
  /** Where the primary archives base backups and WAL, as generated. */
  readonly backup?: BarmanStore;
  readonly retentionPolicy?: string;
  /** 'manifests' when read from clusters/<cluster>/, 'defaults' otherwise. */
  readonly origin: 'manifests' | 'defaults';
}

function yamlFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry) ? [path] : [];
  });
}

function objectsIn(dir: string): Obj[] {
  return yamlFiles(dir).flatMap((file) =>
    parseAllDocuments(readFileSync(file, 'utf8'))
      .map((d) => d.toJSON() as unknown)
      .filter((o): o is Obj => o !== null && typeof o === 'object' && !Array.isArray(o)),
  );
}

const meta = (o: Obj) => (o.metadata ?? {}) as { name?: string; namespace?: string };
const key = (o: Obj) => `${meta(o).namespace ?? 'default'}/${meta(o).name ?? ''}`;

const first = (objects: Obj[]) => objects.sort((a, b) => key(a).localeCompare(key(b)))[0];

/**
 * The sample app's database and Deployment as apps/gitops generated them for a cluster:
 * the first CNPG Cluster under clusters/<cluster>/ and the first Deployment of its `apps/`
 * layer (in namespace/name order). Missing ones fall back to DEFAULT_WORKLOAD.
 */
export function findWorkload(clusterDir: string): Workload {
  const db = first(objectsIn(clusterDir).filter((o) => o.apiVersion === CNPG_API && o.kind === 'Cluster'));
  const deployments = objectsIn(join(clusterDir, 'apps'))
    .filter((o) => o.apiVersion === 'apps/v1' && o.kind === 'Deployment')
    .sort((a, b) => key(a).localeCompare(key(b)));
  const app = deployments.find((d) => meta(d).namespace !== (meta(db ?? {}).namespace ?? DEFAULT_WORKLOAD.namespace)) ?? deployments[0];
  const appNames = {
    appNamespace: app ? (meta(app).namespace ?? 'default') : DEFAULT_WORKLOAD.appNamespace,
    deployment: app ? (meta(app).name ?? '') : DEFAULT_WORKLOAD.deployment,
    apps: deployments.length > 0 ? deployments.map((d) => ({ namespace: meta(d).namespace ?? 'default', name: meta(d).name ?? '' })) : [{ namespace: DEFAULT_WORKLOAD.appNamespace, name: DEFAULT_WORKLOAD.deployment }],
  };
  if (!db) return { namespace: DEFAULT_WORKLOAD.namespace, database: DEFAULT_WORKLOAD.database, ...appNames, databaseSpec: {}, origin: 'defaults' };
  const spec = (db.spec ?? {}) as Obj;
  const backup = spec.backup as { barmanObjectStore?: BarmanStore; retentionPolicy?: string } | undefined;
  return {
    namespace: meta(db).namespace ?? 'default',
    database: meta(db).name ?? DEFAULT_WORKLOAD.database,
    ...appNames,
    databaseSpec: spec,
    backup: backup?.barmanObjectStore,
    retentionPolicy: backup?.retentionPolicy,
    origin: 'manifests',
  };
}

/** `s3://old/prefix` → `s3://bucket/prefix`: replicas keep the source's object keys. */
export function rebaseDestination(destinationPath: string, bucket: string): string {
  const match = /^s3:\/\/[^/]+(\/.*)?$/.exec(destinationPath);
  if (!match) throw new Error(`backup destinationPath: got ${JSON.stringify(destinationPath)}; expected s3://<bucket>[/<prefix>]`);
  return `s3://${bucket}${match[1] ?? '/'}`;
}

/** Where Git's copy of the database archives in `bucket`: `<prefix>/<server name>/` (barman's layout). */
export function gitArchiveFolder(workload: Pick<Workload, 'backup' | 'database'>, bucket: string): { bucket: string; prefix: string } {
  const path = workload.backup ? rebaseDestination(workload.backup.destinationPath, bucket).slice(`s3://${bucket}/`.length) : '';
  const serverName = workload.backup?.serverName ?? workload.database;
  return { bucket, prefix: `${path ? `${path.replace(/\/+$/, '')}/` : ''}${serverName}/` };
}

const AWS_REGION_VARIABLE = 'AWS_DEFAULT_REGION';

/** The regional S3 endpoint, so barman-cloud talks to the bucket's own region. */
export const s3Endpoint = (region: string) => `https://s3.${region}.amazonaws.com`;

export interface RecoverySource {
  readonly destinationPath: string;
  readonly serverName: string;
  readonly region: string;
  readonly s3Credentials: Obj;
}

export interface RecoveryInput {
  readonly workload: Workload;
  readonly source: RecoverySource;
  /**
   * The restored cluster's own backups: where Git archives the target's database (platform-config
   * `namesOf(target).appDatabaseStore`, the same names postgres.ts renders: a failover primary's is its
   * bucket in the standby's region), under a new serverName, because barman refuses a non-empty WAL archive.
   */
  readonly target: { readonly archive: { readonly bucket: string; readonly region: string }; readonly serverName: string };
  /** The target cluster's database as its own manifests define it: its pod identity and archive prefix are carried from there. */
  readonly targetWorkload: Pick<Workload, 'databaseSpec' | 'backup'>;
  readonly runId: string;
  /**
   * A replica in a distributed topology instead of a cluster that promotes at the end of its
   * recovery: it follows the external cluster `source` (the serving cluster's archive), `self`
   * names its own archive (the target store) and `primary` the cluster that serves.
   * @default - a recovery that ends as an independent primary
   */
  readonly topology?: { readonly self: string; readonly primary: string; readonly source: string };
}

/**
 * The Namespace and CNPG Cluster that restore the database from an object store
 * (`bootstrap.recovery` from an `externalClusters[].barmanObjectStore`). In-tree Barman
 * support is deprecated since CNPG 1.26 in favour of the barman-cloud plugin, but still
 * served by 1.30; the plugin's ObjectStore CRD is not installed on this platform.
 */
export function renderRecoveryCluster(input: RecoveryInput): Obj[] {
  const { workload, source, target } = input;
  const carried = Object.fromEntries(CARRIED_SPEC_FIELDS.filter((f) => workload.databaseSpec[f] !== undefined).map((f) => [f, workload.databaseSpec[f]]));
  const identity = Object.fromEntries(IDENTITY_SPEC_FIELDS.filter((f) => input.targetWorkload.databaseSpec[f] !== undefined).map((f) => [f, input.targetWorkload.databaseSpec[f]]));
  const { archive } = target;
  // boto3 (barman-cloud) signs for AWS_DEFAULT_REGION: the archive's region, as postgres.ts renders it.
  const env = [...((identity.env as { name: string }[] | undefined) ?? []).filter((e) => e.name !== AWS_REGION_VARIABLE), { name: AWS_REGION_VARIABLE, value: archive.region }];
  const gitStore = input.targetWorkload.backup ?? workload.backup;
  const labels = { 'app.kubernetes.io/managed-by': 'platform-failover', 'failover.platform.io/run': input.runId };
  const origin = input.topology?.source ?? 'origin';
  const ownStore = {
    destinationPath: gitStore ? rebaseDestination(gitStore.destinationPath, archive.bucket) : `s3://${archive.bucket}/`,
    serverName: target.serverName,
    endpointURL: s3Endpoint(archive.region),
    s3Credentials: source.s3Credentials,
  };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: workload.namespace } },
    {
      apiVersion: CNPG_API,
      kind: 'Cluster',
      metadata: { name: workload.database, namespace: workload.namespace, labels },
      spec: {
        instances: 3,
        storage: { size: '10Gi' },
        affinity: { enablePodAntiAffinity: true, topologyKey: 'topology.kubernetes.io/zone', podAntiAffinityType: 'preferred' },
        ...carried,
        ...identity,
        env,
        // The owner's credentials: the Secret the target's Git bootstrap names (one both clusters
        // hold, so a promotion makes no random `<name>-app`), else a new `<name>-app`.
        bootstrap: { recovery: { source: origin, database: 'app', owner: 'app', ...ownerSecret(input.targetWorkload.databaseSpec) } },
        ...(input.topology ? { replica: { self: input.topology.self, primary: input.topology.primary, source: origin } } : {}),
        externalClusters: [
          {
            name: origin,
            barmanObjectStore: {
              destinationPath: source.destinationPath,
              serverName: source.serverName,
              endpointURL: s3Endpoint(source.region),
              s3Credentials: source.s3Credentials,
              wal: { maxParallel: 8 },
            },
          },
          // The topology names every cluster in it: this one's own archive too.
          ...(input.topology ? [{ name: input.topology.self, barmanObjectStore: ownStore }] : []),
        ],
        backup: {
          ...(workload.retentionPolicy ? { retentionPolicy: workload.retentionPolicy } : {}),
          barmanObjectStore: {
            ...ownStore,
            ...(workload.backup?.wal ? { wal: workload.backup.wal } : {}),
            ...(workload.backup?.data ? { data: workload.backup.data } : {}),
          },
        },
      },
    },
  ];
}

/** `{ secret }` when the cluster's Git bootstrap names the owner's credentials Secret. */
function ownerSecret(spec: Obj): { secret?: unknown } {
  const bootstrap = (spec.bootstrap ?? {}) as Record<string, { secret?: unknown } | undefined>;
  const secret = (bootstrap.initdb ?? bootstrap.recovery)?.secret;
  return secret ? { secret } : {};
}

/** The spec fields renderRecoveryCluster sets, besides `bootstrap`. */
const RENDERED_SPEC_FIELDS = ['instances', 'storage', 'affinity', ...CARRIED_SPEC_FIELDS, ...IDENTITY_SPEC_FIELDS, 'replica', 'externalClusters', 'backup'];
/** The labels renderRecoveryCluster sets. */
const RENDERED_LABELS = ['app.kubernetes.io/managed-by', 'failover.platform.io/run'];

/**
 * What the tool applies, under its field manager, once a cluster it bootstrapped with
 * `bootstrap.recovery` is promoted: the fields renderRecoveryCluster set, with their live values
 * (the promotion's `replica` included), and no `spec.bootstrap`. Server-side apply then drops the
 * recovery fields only this manager owned. Without it, Flux's apply of Git's `bootstrap.initdb`
 * merges into them (`spec.bootstrap` is no atomic map in the CRD) and CloudNativePG's webhook
 * rejects the object ("Only one bootstrap method"), failing the whole Kustomization. The
 * bootstrap is read only when a cluster is created, so dropping it changes nothing running.
 */
export function renderBootstrapRelease(live: Obj): Obj {
  const metadata = (live.metadata ?? {}) as { name?: string; namespace?: string; labels?: Record<string, string> };
  const spec = (live.spec ?? {}) as Obj;
  const labels = Object.fromEntries(RENDERED_LABELS.filter((l) => metadata.labels?.[l] !== undefined).map((l) => [l, metadata.labels![l]]));
  return {
    apiVersion: CNPG_API,
    kind: 'Cluster',
    metadata: { name: metadata.name, namespace: metadata.namespace, ...(Object.keys(labels).length > 0 ? { labels } : {}) },
    spec: Object.fromEntries(RENDERED_SPEC_FIELDS.filter((f) => spec[f] !== undefined).map((f) => [f, spec[f]])),
  };
}

/**
 * An on-demand backup of the running database: `failback` (the standby's last data before
 * fail-back), `fenced` (a returned primary's data, split-brain writes included, before
 * anything replaces it) or `base` (the first base backup of a promoted or restored database's
 * new timeline and server name, which holds none). The `purpose` label lets fail-back find
 * the fenced one.
 */
export function renderBackup(workload: Pick<Workload, 'namespace' | 'database'>, purpose: BackupPurpose, runId: string): Obj {
  return {
    apiVersion: CNPG_API,
    kind: 'Backup',
    metadata: { name: backupName(workload, purpose, runId), namespace: workload.namespace, labels: { 'app.kubernetes.io/managed-by': 'platform-failover', [BACKUP_PURPOSE_LABEL]: purpose } },
    spec: { cluster: { name: workload.database }, method: 'barmanObjectStore' },
  };
}

export type BackupPurpose = 'failback' | 'fenced' | 'base';
export const BACKUP_PURPOSE_LABEL = 'failover.platform.io/purpose';
export const backupName = (workload: Pick<Workload, 'database'>, purpose: BackupPurpose, runId: string) => `${workload.database}-${purpose}-${runId}`;

/** Credentials for barman-cloud: the generated ones, else the pod's own (web-identity) role. */
export function sourceCredentials(workload: Workload): Obj {
  return workload.backup?.s3Credentials ?? { inheritFromIAMRole: true };
}
