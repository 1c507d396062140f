import { APP_DATABASE, APP_HEALTH_CHECK_PATH, archiveServerName, ORDERS_API, servingCluster, WAL_ARCHIVE_TIMEOUT_SECONDS, WORKLOAD_IDENTITIES, type ClusterDefinition } from '@platform/platform-config';
import { ApiObject, JsonPatch, type Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { AddOnBase, type AddOnContext } from '../addon';
import {
  Cluster,
  type ClusterSpec,
  ClusterSpecBackupBarmanObjectStoreDataCompression,
  ClusterSpecBackupBarmanObjectStoreWalCompression,
  ClusterSpecPostgresqlSynchronousMethod,
  ClusterSpecPrimaryUpdateMethod,
  ClusterSpecPrimaryUpdateStrategy,
  ScheduledBackup,
  ScheduledBackupSpecBackupOwnerReference,
  ScheduledBackupSpecMethod,
} from '../imports/postgresql.cnpg.io';
import { PrometheusRule, PrometheusRuleSpecGroupsRulesExpr } from '../imports/monitoring.coreos.com';
import { ownNamespace } from '../private/namespace';
import { ZONE_KEY } from '../scheduling';
import { catalogWorkloadProps } from '../workloads/catalog-app';
import { legacyS3Credentials, stagedWebIdentity } from '../web-identity';
import { HaWorkload } from '../workloads/ha-workload';
import { CloudNativePgOperator } from './cloudnative-pg';
import { GP3_STORAGE_CLASS } from './ebs-csi';
import { IngressController, TRAEFIK_INGRESS_CLASS } from './ingress-controller';
import { Monitoring } from './monitoring';
import { CNPG_CLUSTER_LABEL, defaultPagedRpoSeconds, HEARTBEAT_SCHEDULE, HEARTBEAT_TABLE, replicationAlerts } from './postgres-alerts';
import { walArchiveAlerts, type WalVolumeRef } from './wal-archive-alerts';

export interface PostgresProps {
  /**
   * CloudNativePG names the instances' service account after the Cluster: it must be the
   * `postgres-backups` identity's, the only one its role trusts. @default APP_DATABASE.name ('orders')
   */
  readonly name: string;
  /** The same for the namespace. @default APP_DATABASE.namespace ('data') */
  readonly namespace: string;
  /** One primary plus replicas, each in a different zone. @default 3 */
  readonly instances: number;
  /** @default 'ghcr.io/cloudnative-pg/postgresql:17.6' */
  readonly imageName: string;
  /** @default '20Gi' */
  readonly storage: string;
  /**
   * WAL on its own volume, so an archiving stall fills it, not the data volume. Must hold
   * `archiveOutageHours` of WAL at the cluster's `backups.databaseWalMiBPerMinute`
   * (platform-config, the rate ha-check's promotion estimate uses too): walVolumeGiB.
   * @default - walVolumeGiB(backups.databaseWalMiBPerMinute, archiveOutageHours) Gi
   */
  readonly walStorage: string;
  /**
   * Hours the primary must keep accepting writes while its archive is unreachable (a failover
   * primary archives into the standby's region, so: the standby region down). Unarchived WAL
   * stays on the WAL volume; DatabaseWalArchivingFailing pages within minutes of the first
   * failure and DatabaseWalVolumeHalfFull at half of it.
   * @default 12
   */
  readonly archiveOutageHours: number;
  /** Six-field cron (seconds first) for base backups. @default '0 0 3 * * *' */
  readonly backupSchedule: string;
  /** @default '30d' */
  readonly retentionPolicy: string;
}

/** S3's endpoint in `region`: barman-cloud otherwise builds a global-endpoint URL. */
/** Segments barman-cloud-wal-archive uploads at once (CloudNativePG `wal.maxParallel`, default 1). */
const WAL_MAX_PARALLEL = 8;

const regionalS3Endpoint = (region: string) => `https://s3.${region}.amazonaws.com`;

/** PostgREST's ports: the API, and the admin server whose `/ready` needs the database. */
const API_PORT = 3000;
const ADMIN_PORT = 3001;
/** The role anonymous API requests run as: read and insert orders, nothing else. */
const API_ROLE = 'web_anon';
/** Where CloudNativePG mounts `spec.projectedVolumeTemplate` in every instance (CRD description). */
export const CNPG_PROJECTED_DIRECTORY = '/projected';

/** PostgreSQL's WAL segment size (initdb default, which CloudNativePG keeps). */
const WAL_SEGMENT_MIB = 16;
/** PostgreSQL's default `max_wal_size` (1 GB): WAL kept for checkpoints, on top of what waits for the archiver. */
const MAX_WAL_SIZE_GIB = 1;
const DEFAULT_ARCHIVE_OUTAGE_HOURS = 12;

/**
 * MiB a minute pg_wal grows by while nothing is archived: every switched segment stays as a whole
 * 16 MiB file until archived; archive_timeout switches at least once a WAL_ARCHIVE_TIMEOUT_SECONDS
 * (the heartbeat always writes), and above that rate segments fill before the timeout.
 */
export function walGrowthMiBPerMinute(walMiBPerMinute: number): number {
  const switchesPerMinute = 60 / WAL_ARCHIVE_TIMEOUT_SECONDS;
  return Math.max(switchesPerMinute * WAL_SEGMENT_MIB, walMiBPerMinute);
}

/**
 * GiB the WAL volume needs to keep accepting writes for `hours` with the archive unreachable: the
 * growth above, plus max_wal_size, and a tenth for the filesystem and the alert's margin.
 * 16 MiB/min for 12 h: 14 GiB; 60 MiB/min: 48 GiB.
 */
export function walVolumeGiB(walMiBPerMinute: number, hours: number): number {
  const waitingGiB = (walGrowthMiBPerMinute(walMiBPerMinute) * 60 * hours) / 1024;
  return Math.ceil((waitingGiB + MAX_WAL_SIZE_GIB) * 1.1);
}

/**
 * Hours a WAL volume of `sizeGiB` lets the primary write with its archive unreachable before pg_wal
 * is full: PostgreSQL then PANICs on the failed WAL write and the instance stays down (it cannot
 * start with a full pg_wal), and CloudNativePG does not fail over a full disk.
 */
export function walRunwayHours(sizeGiB: number, walMiBPerMinute: number): number {
  return ((sizeGiB - MAX_WAL_SIZE_GIB) * 1024) / walGrowthMiBPerMinute(walMiBPerMinute) / 60;
}

const giB = (size: string): number | undefined => {
  const m = /^(\d+)Gi$/.exec(size);
  return m ? Number(m[1]) : undefined;
};

/**
 * A 3-instance PostgreSQL cluster (CloudNativePG): instances pinned to different zones by a
 * required zone anti-affinity (instances are fixed, not autoscaled, so the cap is the point),
 * one synchronous standby so a failover loses no committed transaction, and the operator
 * promoting the most up-to-date replica when the primary fails. WAL archiving and scheduled
 * base backups go to the cluster's archive (names.appWalArchive): a failover primary's is its
 * bucket in the standby's region, written directly, so a segment is in the surviving region
 * when `archive_command` returns (docs/decisions/wal-archive-in-standby-region.md); any other
 * cluster's is its own app backup bucket. No S3 keys: the instances' service account (CloudNativePG
 * names it after the Cluster) is the `postgres-backups` workload identity, and barman-cloud
 * (`inheritFromIAMRole`) finds its web-identity token and role in the pod's environment
 * (`spec.env`, `spec.projectedVolumeTemplate`): backups, WAL archiving and restores alike.
 */
export class PostgresCluster extends AddOnBase<PostgresProps> {
  readonly id = 'postgres';
  readonly layer = 'apps' as const;
  // The orders API's Ingress needs the controller's IngressClass; the PodMonitor and rules the operator's CRDs.
  override readonly dependencies = [CloudNativePgOperator, IngressController, Monitoring];
  override readonly awsIdentity = 'postgres-backups' as const;

  protected defaults(ctx: AddOnContext): PostgresProps {
    return {
      name: APP_DATABASE.name,
      namespace: APP_DATABASE.namespace,
      instances: 3,
      imageName: 'ghcr.io/cloudnative-pg/postgresql:17.6',
      storage: '20Gi',
      walStorage: `${walVolumeGiB(ctx.cluster.backups.databaseWalMiBPerMinute, DEFAULT_ARCHIVE_OUTAGE_HOURS)}Gi`,
      archiveOutageHours: DEFAULT_ARCHIVE_OUTAGE_HOURS,
      backupSchedule: '0 0 3 * * *',
      retentionPolicy: '30d',
    };
  }

  protected override check(props: PostgresProps, ctx: AddOnContext): void {
    const zones = ctx.cluster.availabilityZones.length;
    if (!Number.isInteger(props.instances) || props.instances < 3 || props.instances > zones) {
      this.fail('instances', props.instances, `expected 3 to ${zones} (one per Availability Zone, required anti-affinity)`);
    }
    if (!(props.archiveOutageHours > 0)) this.fail('archiveOutageHours', props.archiveOutageHours, 'expected more than 0 hours');
    const rate = ctx.cluster.backups.databaseWalMiBPerMinute;
    const needed = walVolumeGiB(rate, props.archiveOutageHours);
    const wal = giB(props.walStorage);
    if (wal === undefined || wal < needed) {
      this.fail('walStorage', props.walStorage, `expected at least ${needed}Gi (whole Gi): ${props.archiveOutageHours} h of WAL at ${rate} MiB/min (backups.databaseWalMiBPerMinute) while the archive is unreachable, plus max_wal_size`);
    }
    if (props.backupSchedule.trim().split(/\s+/).length !== 6) this.fail('backupSchedule', props.backupSchedule, 'expected a six-field cron expression (seconds first)');
    if (!/^\d+[dwm]$/.test(props.retentionPolicy)) this.fail('retentionPolicy', props.retentionPolicy, 'expected a duration such as 30d');
    const identity = WORKLOAD_IDENTITIES[this.awsIdentity];
    if (props.namespace !== identity.namespace) {
      this.fail('namespace', props.namespace, `expected "${identity.namespace}", the namespace of the ${identity.id} identity (its role trusts only that service account)`);
    }
    if (props.name !== identity.serviceAccount) {
      this.fail('name', props.name, `expected "${identity.serviceAccount}", the service account of the ${identity.id} identity (CloudNativePG names it after the Cluster)`);
    }
  }

  protected render(chart: Chart, props: PostgresProps, ctx: AddOnContext): void {
    ownNamespace(chart, props.namespace);
    // Where this database writes (platform-config appDatabaseStore: a failover primary's bucket in the
    // standby's region, unless backups.databaseStore moves it home while that region is down).
    const archive = ctx.names.appDatabaseStore;
    // CloudNativePG mounts its projected volume at /projected; barman-cloud (boto3) reads the variables.
    const aws = stagedWebIdentity(ctx, this.awsIdentity, { tokenDirectory: CNPG_PROJECTED_DIRECTORY });
    new Cluster(chart, 'Cluster', {
      metadata: { name: props.name, namespace: props.namespace },
      spec: {
        instances: props.instances,
        imageName: props.imageName,
        primaryUpdateStrategy: ClusterSpecPrimaryUpdateStrategy.UNSUPERVISED,
        // A rolling update moves the primary to an updated replica first (seconds of read-only)
        // instead of restarting it in place (a full restart of writes).
        primaryUpdateMethod: ClusterSpecPrimaryUpdateMethod.SWITCHOVER,
        failoverDelay: 0,
        postgresql: {
          synchronous: { method: ClusterSpecPostgresqlSynchronousMethod.ANY, number: 1 },
          // Bounds the regional RPO: an idle-but-written primary still ships a segment this often.
          parameters: { archive_timeout: `${WAL_ARCHIVE_TIMEOUT_SECONDS}s` },
        },
        storage: { storageClass: GP3_STORAGE_CLASS, size: props.storage },
        walStorage: { storageClass: GP3_STORAGE_CLASS, size: props.walStorage },
        affinity: { enablePodAntiAffinity: true, topologyKey: ZONE_KEY, podAntiAffinityType: 'required' },
        ...(aws && {
          serviceAccountTemplate: { metadata: { annotations: { ...aws.serviceAccountAnnotations } } },
          projectedVolumeTemplate: { sources: [aws.tokenSource] },
        }),
        // Both on purpose: AWS_REGION (stagedWebIdentity) is what the AWS SDKs other than boto3 read
        // for the regional STS endpoint; boto3 (barman-cloud) reads only AWS_DEFAULT_REGION, and
        // without it STS goes to the global endpoint and S3 requests are signed for us-east-1. It is
        // the region of the store the database writes: every write is signed for it (a read of the
        // pair's folder elsewhere is redirected by botocore's S3 region redirector).
        env: [...(aws?.env ?? []), { name: 'AWS_DEFAULT_REGION', value: archive.region }],
        ...this.origin(props, ctx),
        backup: {
          retentionPolicy: props.retentionPolicy,
          barmanObjectStore: {
            // Below the prefix the database's role may write (names.appBackupArchive.bucketPrefix).
            // WAL and base backups share it (one object store per cluster): on a failover primary
            // both live in the standby's region, so an in-region restore reads across regions.
            destinationPath: `s3://${archive.bucket}/${ctx.names.appBackupArchive.bucketPrefix}${props.name}`,
            endpointUrl: regionalS3Endpoint(archive.region),
            // Git names the archive (fail-back records a restored database's new one): a promotion
            // restores from exactly this folder of the replica.
            serverName: archiveServerName(ctx.cluster.name, props.name),
            // Before the web-identity stage: the backup user's keys from the Secret the old initialiser made.
            s3Credentials: aws ? { inheritFromIamRole: true } : legacyS3Credentials(ctx),
            // After an archive outage the backlog uploads 8 segments at a time, not one by one.
            wal: { compression: ClusterSpecBackupBarmanObjectStoreWalCompression.GZIP, maxParallel: WAL_MAX_PARALLEL },
            data: { compression: ClusterSpecBackupBarmanObjectStoreDataCompression.GZIP },
          },
        },
      },
    });
    new ScheduledBackup(chart, 'Backup', {
      metadata: { name: `${props.name}-daily`, namespace: props.namespace },
      spec: {
        schedule: props.backupSchedule,
        immediate: true,
        backupOwnerReference: ScheduledBackupSpecBackupOwnerReference.SELF,
        method: ScheduledBackupSpecMethod.BARMAN_OBJECT_STORE,
        cluster: { name: props.name },
      },
    });
    const role = this.replicationRole(ctx);
    this.ordersApi(chart, props, ctx, role === 'standby');
    this.monitoring(chart, props, ctx, role);
    if (role === 'primary') this.heartbeat(chart, props);
  }

  /** The WAL volume's size, the rate it was sized for and how fast it fills without an archive. */
  private walVolume(props: PostgresProps, ctx: AddOnContext): WalVolumeRef {
    const sizeGiB = giB(props.walStorage)!;
    const walMiBPerMinute = ctx.cluster.backups.databaseWalMiBPerMinute;
    return { sizeGiB, walMiBPerMinute, growthMiBPerMinute: walGrowthMiBPerMinute(walMiBPerMinute) };
  }

  /** The pair's regional RPO objective (the primary's), which the standby's lag alert enforces. */
  private regionRpoSeconds(ctx: AddOnContext): number {
    return ctx.platform.failoverRoleOf(ctx.cluster)?.primary.objectives.regionRpoSeconds ?? defaultPagedRpoSeconds();
  }

  /** `standby`: a replica cluster of its primary's replicated archive; `primary`: a standby replays its archive. */
  private replicationRole(ctx: AddOnContext): 'primary' | 'standby' | 'unpaired' {
    const pair = ctx.platform.failoverRoleOf(ctx.cluster);
    if (!pair || ctx.platform.namesOf(pair.primary).appBackupReplicaBucket === undefined) return 'unpaired';
    return pair.role;
  }

  /**
   * The instances' metrics (CloudNativePG serves them on the `metrics` port; the Cluster's own
   * `enablePodMonitor` is deprecated) with the cluster name as a label, and the replication
   * alerts of this cluster's role (postgres-alerts.ts).
   */
  private monitoring(chart: Chart, props: PostgresProps, ctx: AddOnContext, role: 'primary' | 'standby' | 'unpaired'): void {
    new ApiObject(chart, 'Metrics', {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PodMonitor',
      metadata: { name: props.name, namespace: props.namespace },
      spec: {
        selector: { matchLabels: { 'cnpg.io/cluster': props.name, 'cnpg.io/podRole': 'instance' } },
        podMetricsEndpoints: [{ port: 'metrics', relabelings: [{ sourceLabels: ['__meta_kubernetes_pod_label_cnpg_io_cluster'], targetLabel: CNPG_CLUSTER_LABEL }] }],
      },
    });
    new PrometheusRule(chart, 'Rules', {
      metadata: { name: `${props.name}-replication`, namespace: props.namespace },
      spec: {
        groups: [
          {
            name: `${props.name}-replication`,
            rules: [
              ...replicationAlerts({ name: props.name, namespace: props.namespace }, role, this.regionRpoSeconds(ctx)),
              // The archive in the standby's region is the primary's regional RPO (no heartbeat elsewhere: an idle archiver is not late).
              ...(role === 'primary' ? walArchiveAlerts({ name: props.name, namespace: props.namespace }, this.walVolume(props, ctx)) : []),
            ].map((r) => ({
              alert: r.alert,
              expr: PrometheusRuleSpecGroupsRulesExpr.fromString(r.expr),
              for: r.for,
              labels: { severity: r.severity, cluster: ctx.cluster.name },
              annotations: { summary: r.summary },
            })),
          },
        ],
      },
    });
  }

  /**
   * Once a minute, the primary updates one row (HEARTBEAT_SCHEDULE): an idle database then still
   * writes WAL, `archive_timeout` ships a segment every WAL_ARCHIVE_TIMEOUT_SECONDS, and the
   * standby's replay lag stays a true age of its data. Runs as the app owner through the `-rw`
   * service; the table is created on first run, so existing clusters get it too.
   */
  private heartbeat(chart: Chart, props: PostgresProps): void {
    const sql = `CREATE TABLE IF NOT EXISTS ${HEARTBEAT_TABLE} (id int PRIMARY KEY, at timestamptz NOT NULL); INSERT INTO ${HEARTBEAT_TABLE} VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET at = excluded.at`;
    // The connection string is read from the mounted Secret, never put in the environment.
    const secretDir = '/etc/database';
    new kplus.k8s.KubeCronJob(chart, 'Heartbeat', {
      metadata: { name: `${props.name}-heartbeat`, namespace: props.namespace },
      spec: {
        schedule: HEARTBEAT_SCHEDULE,
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: 30,
        successfulJobsHistoryLimit: 1,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          spec: {
            backoffLimit: 0,
            activeDeadlineSeconds: 50,
            ttlSecondsAfterFinished: 600,
            template: {
              spec: {
                restartPolicy: 'Never',
                automountServiceAccountToken: false,
                securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
                volumes: [{ name: 'database', secret: { secretName: `${props.name}-app`, items: [{ key: 'uri', path: 'uri' }] } }],
                containers: [
                  {
                    name: 'heartbeat',
                    image: props.imageName,
                    // The instances' own image, already on the nodes: a registry pull every minute could miss a heartbeat (and page dr's lag alert).
                    imagePullPolicy: 'IfNotPresent',
                    command: ['sh', '-c', `exec psql "$(cat ${secretDir}/uri)" --no-psqlrc -v ON_ERROR_STOP=1 -c "${sql}"`],
                    volumeMounts: [{ name: 'database', mountPath: secretDir, readOnly: true }],
                    resources: {
                      requests: { cpu: kplus.k8s.Quantity.fromString('10m'), memory: kplus.k8s.Quantity.fromString('32Mi') },
                      limits: { cpu: kplus.k8s.Quantity.fromString('100m'), memory: kplus.k8s.Quantity.fromString('64Mi') },
                    },
                    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
                  },
                ],
              },
            },
          },
        },
      },
    });
  }


  /**
   * How the database comes to be, and its place in the pair's distributed topology
   * (CloudNativePG ≥ 1.24, `spec.replica.self/primary/source`). A cluster in no pair starts
   * empty (`initdb`, which creates the orders table), without a topology. In a pair both clusters
   * declare both archives in `externalClusters`, named after the clusters, where each cluster
   * writes it (names.appWalArchive: the primary's in its bucket in the standby's region, the
   * standby's in its own bucket, both in the standby's region), and `replica.primary` is the cluster Git
   * says serves (platform-config `servingCluster`, which promotion and fail-back commit). The
   * standby bootstraps from its primary's archive and keeps replaying it, read-only, so it never
   * holds a writable empty copy; a promotion sets `primary` to itself. Fail-back's planned
   * switchover (demotion, promotion token) leaves this topology behind; the primary it rebuilt
   * with `bootstrap.recovery` gets that bootstrap released after its promotion (the failover
   * tool re-applies its fields without it), because `spec.bootstrap` is no atomic map: Flux's
   * `initdb` would merge into the recovery and CloudNativePG's webhook rejects two methods.
   * Resuming Flux then swaps in `initdb`, which a running cluster never reads: nothing is rebuilt.
   */
  private origin(props: PostgresProps, ctx: AddOnContext): Pick<ClusterSpec, 'bootstrap' | 'replica' | 'externalClusters'> {
    const pair = ctx.platform.failoverRoleOf(ctx.cluster);
    const initdb = {
      initdb: {
        database: 'app',
        owner: 'app',
        // Only a new cluster runs this; a restored or promoted one brings the table with its data.
        postInitApplicationSql: [
          `CREATE TABLE ${ORDERS_API.table} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, item text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
          `ALTER TABLE ${ORDERS_API.table} OWNER TO app`,
          `CREATE ROLE ${API_ROLE} NOLOGIN`,
          `GRANT USAGE ON SCHEMA public TO ${API_ROLE}`,
          `GRANT SELECT, INSERT ON ${ORDERS_API.table} TO ${API_ROLE}`,
          `GRANT ${API_ROLE} TO app`,
        ],
      },
    };
    if (!pair || ctx.platform.namesOf(pair.primary).appBackupReplicaBucket === undefined) return { bootstrap: initdb };
    const prefix = `${ctx.names.appBackupArchive.bucketPrefix}${props.name}`;
    // The same role reads both (aws-cluster workload-policies: its own bucket, and restoreSources);
    // before the web-identity stage, the keys of the legacy backup user.
    const s3Credentials = stagedWebIdentity(ctx, this.awsIdentity) ? { inheritFromIamRole: true } : legacyS3Credentials(ctx);
    // Each cluster's archive where it writes it (names.appWalArchive): the primary's in its bucket in
    // the standby's region, which the standby reads in its own region, no replication in between.
    const archive = (cluster: ClusterDefinition) => {
      const { bucket, region } = ctx.platform.namesOf(cluster).appWalArchive;
      return {
        name: cluster.name,
        barmanObjectStore: {
          destinationPath: `s3://${bucket}/${prefix}`,
          serverName: archiveServerName(cluster.name, props.name),
          endpointUrl: regionalS3Endpoint(region),
          s3Credentials,
          wal: { maxParallel: WAL_MAX_PARALLEL },
        },
      };
    };
    const { primary, standby } = pair;
    const other = pair.role === 'standby' ? primary : standby;
    return {
      bootstrap: pair.role === 'standby' ? { recovery: { source: primary.name, database: 'app', owner: 'app' } } : initdb,
      replica: { self: ctx.cluster.name, primary: servingCluster(primary.name), source: other.name },
      externalClusters: [archive(primary), archive(standby)],
    };
  }

  /**
   * PostgREST over the database's `-rw` service (the `<name>-app` Secret CloudNativePG writes):
   * `ORDERS_API.path` on the public host name reads and inserts orders, and a host-less rule
   * sends APP_HEALTH_CHECK_PATH to its admin `/ready`, which answers 200 only while the
   * database is reachable. Route 53 checks with the load balancer's name as Host, hence no host.
   *
   * On a standby the Deployment runs 0 replicas. CloudNativePG writes no `<name>-app` Secret for
   * a replica cluster (the owner and its password arrive with the primary's WAL; the operator
   * creates the Secret, and sets the role's password from it, only once the cluster is no
   * longer a replica: `spec.replica.primary` names itself), so pods would wait for it in CreateContainerConfigError and Flux's `wait` would
   * never see the `apps` layer Ready. At 0 the Deployment is Available, the pilot light runs no
   * app (nothing to write through, `/ready` unrouted), and the HPA leaves it alone (it does not
   * scale from 0): packages/failover's verify-app scales it to one per zone after the
   * promotion, with Flux suspended, and the HPA takes over from there.
   */
  private ordersApi(chart: Chart, props: PostgresProps, ctx: AddOnContext, standby: boolean): void {
    // Image, HPA bounds and resources come from the application catalog (platform-config).
    const app = ctx.platform.appOf(ctx.cluster, ORDERS_API.name);
    if (!app) return;
    const api = new HaWorkload(chart, ORDERS_API.name, {
      ...catalogWorkloadProps(app),
      namespace: props.namespace,
      port: API_PORT,
      availabilityZones: ctx.cluster.availabilityZones,
    });
    const deployment = ApiObject.of(api.deployment);
    const secret = `${props.name}-app`;
    deployment.addJsonPatch(
      JsonPatch.add('/spec/template/spec/containers/0/env', [
        { name: 'PGRST_DB_URI', valueFrom: { secretKeyRef: { name: secret, key: 'uri' } } },
        { name: 'PGRST_DB_SCHEMAS', value: 'public' },
        { name: 'PGRST_DB_ANON_ROLE', value: API_ROLE },
        { name: 'PGRST_SERVER_PORT', value: String(API_PORT) },
        { name: 'PGRST_ADMIN_SERVER_PORT', value: String(ADMIN_PORT) },
      ]),
      JsonPatch.add('/spec/template/spec/containers/0/ports/-', { containerPort: ADMIN_PORT, name: 'admin' }),
      // Ready (and kept) only while the database answers; live while the process does.
      JsonPatch.replace('/spec/template/spec/containers/0/readinessProbe/httpGet/path', '/ready'),
      JsonPatch.replace('/spec/template/spec/containers/0/readinessProbe/httpGet/port', kplus.k8s.IntOrString.fromNumber(ADMIN_PORT)),
      JsonPatch.replace('/spec/template/spec/containers/0/livenessProbe/httpGet/path', '/live'),
      JsonPatch.replace('/spec/template/spec/containers/0/livenessProbe/httpGet/port', kplus.k8s.IntOrString.fromNumber(ADMIN_PORT)),
    );
    if (standby) deployment.addJsonPatch(JsonPatch.add('/spec/replicas', 0));
    ApiObject.of(api.service).addJsonPatch(JsonPatch.add('/spec/ports/-', { name: 'admin', port: ADMIN_PORT, targetPort: kplus.k8s.IntOrString.fromNumber(ADMIN_PORT) }));
    const backend = (port: number) => ({ service: { name: api.service.name, port: { number: port } } });
    const host = ctx.platform.names.appHostname;
    new kplus.k8s.KubeIngress(chart, 'orders-api-ingress', {
      metadata: { name: ORDERS_API.name, namespace: props.namespace, labels: { ...api.labels } },
      spec: {
        ingressClassName: TRAEFIK_INGRESS_CLASS,
        rules: [
          { http: { paths: [{ path: APP_HEALTH_CHECK_PATH, pathType: 'Exact', backend: backend(ADMIN_PORT) }] } },
          ...(host ? [{ host, http: { paths: [{ path: ORDERS_API.path, pathType: 'Prefix', backend: backend(80) }] } }] : []),
        ],
      },
    });
  }
}
