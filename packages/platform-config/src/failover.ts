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
 * so the primary stays unhealthy and DNS stays on the standby until fail-back puts
 * INGRESS_HEALTH_CHECK_PATH back: Route 53 failover is not sticky. A disabled check counts
 * as healthy, and an inverted one also when the primary is really down, so neither fences.
 */
export const FENCED_HEALTH_CHECK_PATH = '/region-failover-fenced';
