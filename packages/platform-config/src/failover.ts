import type { ClusterDefinition } from './cluster-definition';

/**
 * TTL of a Route 53 alias record that points at a load balancer: Route 53 fixes it at the
 * load balancer's own 60 s and ignores any other value. The app's failover records are such
 * aliases, so this is what resolvers cache and part of the regional RTO.
 */
export const LOAD_BALANCER_ALIAS_TTL_SECONDS = 60;

/**
 * A cluster's part in regional failover, derived from `failover.standbyCluster` so nothing
 * retypes which cluster is primary: the cluster naming a standby is the primary, the cluster
 * it names is the standby.
 */
export interface FailoverRole {
  readonly role: 'primary' | 'standby';
  readonly primary: ClusterDefinition;
  readonly standby: ClusterDefinition;
}

/** The failover pair `cluster` belongs to, or undefined when it takes no part in failover. */
export function failoverRole(clusters: readonly ClusterDefinition[], cluster: ClusterDefinition): FailoverRole | undefined {
  const standby = cluster.failover ? clusters.find((c) => c.name === cluster.failover?.standbyCluster) : undefined;
  if (standby) return { role: 'primary', primary: cluster, standby };
  const primary = clusters.find((c) => c.failover?.standbyCluster === cluster.name);
  return primary ? { role: 'standby', primary, standby: cluster } : undefined;
}

/**
 * Path the promotion points the PRIMARY's Route 53 health check at (the ingress answers 404),
 * so the primary's own check stays unhealthy until fail-back puts APP_HEALTH_CHECK_PATH back.
 * A disabled check counts as healthy, and an inverted one also when the primary is really
 * down, so neither fences. The check alone is not enough (when both records are unhealthy
 * Route 53 answers the PRIMARY): promotion also points the PRIMARY record at the standby.
 */
export const FENCED_HEALTH_CHECK_PATH = '/region-failover-fenced';

/**
 * What both regions' Route 53 health checks probe once a region may serve: the orders API's
 * readiness (PostgREST's admin `/ready`: 200 only while its connection pool reaches the
 * database and its schema cache is loaded), routed by a host-less Ingress rule so the check's
 * Host header (the load balancer's name) matches. Not Traefik's `/ping`: a region whose load
 * balancer answers but whose database is down must fail over.
 */
export const APP_HEALTH_CHECK_PATH = '/ready';

/**
 * The orders API (PostgREST over the app database): the app endpoint that reads and writes the
 * `orders` table, which a recovery is verified through. `path` is routed on the public host name.
 */
export const ORDERS_API = { name: 'orders-api', path: '/orders', table: 'orders' } as const;

/**
 * Path the standby's Route 53 health check probes until a promotion has restored the data
 * (the ingress answers 404): the SECONDARY record never answers while the standby is pilot
 * light, even when the primary is down (Route 53 then answers the dead PRIMARY: no write may
 * reach an unrestored database). Promotion points the check at APP_HEALTH_CHECK_PATH after
 * verifying the restored app; fail-back puts this path back. Terraform ignores the field.
 */
export const UNPROMOTED_HEALTH_CHECK_PATH = '/region-failover-not-promoted';

/**
 * The field manager of every change packages/failover makes inside a cluster (suspend, fence,
 * scale). Flux's kustomize-controller takes over fields whose manager name starts with
 * `kubectl` (Apply and Update), `before-first-apply` or `kustomize-controller` (Update), so a
 * plain `kubectl patch` is undone on the next sync; this name matches none of those prefixes.
 */
export const FAILOVER_FIELD_MANAGER = 'platform-failover';

/**
 * `archive_timeout` of the app database: PostgreSQL switches (and CloudNativePG archives) a WAL
 * segment at least this often, so an idle-but-written database loses at most this much.
 */
export const WAL_ARCHIVE_TIMEOUT_SECONDS = 60;

/**
 * The bound on S3 cross-region replication under Replication Time Control (enabled on every
 * backup bucket's replication): 99.99 % of objects within 15 minutes. What still travels by
 * replication relies on it: etcd snapshots, and a promoted standby's archive copied out of its
 * region. A failover primary's WAL does not (WAL_ARCHIVE_REPLICATION_SECONDS).
 */
export const S3_REPLICATION_BOUND_SECONDS = 15 * 60;

/**
 * Replication time of a failover primary's WAL archive: 0. Its database archives straight into
 * its bucket in the standby's region (ClusterNames.appWalArchive), so a segment is stored there
 * when `archive_command` returns; nothing is left to replicate (docs/decisions/wal-archive-in-standby-region.md).
 */
export const WAL_ARCHIVE_REPLICATION_SECONDS = 0;

/**
 * How long uploading one WAL segment into the standby's region may take before it counts as
 * late: a 16 MiB segment (gzip) over an inter-region path of a few tens of ms round trip takes
 * seconds. `cnpg_pg_stat_archiver_seconds_since_last_archival` above archive_timeout + this
 * bound alerts (DatabaseWalArchiveLate): beyond it the regional RPO below no longer holds, and
 * the alert says so before the objective is crossed.
 */
export const WAL_ARCHIVER_BOUND_SECONDS = 60;

/**
 * Data a regional failover of the primary's database may lose while its archiver keeps its
 * bound: the WAL segment not yet switched (archive_timeout) + its upload (the archiver bound) +
 * replication (0: the archive is already in the standby's region). etcd is not restored in a
 * promotion (the standby runs its own control plane).
 */
export const REGIONAL_RPO_SECONDS = WAL_ARCHIVE_TIMEOUT_SECONDS + WAL_ARCHIVER_BOUND_SECONDS + WAL_ARCHIVE_REPLICATION_SECONDS;
