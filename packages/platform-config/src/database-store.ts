import type { ClusterDefinition } from './cluster-definition';
import { REGIONAL_RPO_SECONDS, S3_REPLICATION_BOUND_SECONDS, WAL_ARCHIVE_TIMEOUT_SECONDS } from './failover';

/**
 * Where a cluster's database writes its own archive (CloudNativePG `spec.backup`: WAL and base
 * backups): a strategy, not a flag. What the standby replays (ClusterNames.appWalArchive) does not
 * move with it (docs/decisions/wal-archive-in-standby-region.md).
 * - `DatabaseStore.standbyRegion()`: the bucket in the standby's region (`appBackupReplicaBucket`),
 *   written directly: a segment is out of the region when archive_command returns (regional RPO
 *   = archive_timeout + the archiver bound). The default of a failover primary.
 * - `DatabaseStore.ownRegion()`: the cluster's own bucket (`appBackupBucket`), which S3 replication
 *   copies into the same key path of the standby region's bucket (regional RPO = archive_timeout +
 *   the replication bound). The default of every other cluster, and the escape hatch of a failover
 *   primary while its standby's region cannot take writes (docs/runbooks/region-failover.md).
 */
export abstract class DatabaseStore {
  static standbyRegion(): DatabaseStore {
    return new StandbyRegionStore();
  }

  static ownRegion(): DatabaseStore {
    return new OwnRegionStore();
  }

  /** The strategy of a serialized definition (`{ kind }`, what a copy of the input keeps). */
  static of(kind: 'standby-region' | 'own-region'): DatabaseStore {
    return kind === 'standby-region' ? DatabaseStore.standbyRegion() : DatabaseStore.ownRegion();
  }

  abstract readonly kind: 'standby-region' | 'own-region';

  /** Committed writes a loss of the primary's region may lose while the primary writes this store. */
  abstract get regionalRpoSeconds(): number;
}

class StandbyRegionStore extends DatabaseStore {
  readonly kind = 'standby-region';
  get regionalRpoSeconds(): number {
    return REGIONAL_RPO_SECONDS;
  }
}

class OwnRegionStore extends DatabaseStore {
  readonly kind = 'own-region';
  // The segment not yet switched, then S3 replication under RTC (99.99 % within 15 min) into the standby's region.
  get regionalRpoSeconds(): number {
    return WAL_ARCHIVE_TIMEOUT_SECONDS + S3_REPLICATION_BOUND_SECONDS;
  }
}

/** The store a cluster's database writes: its declared one, else the standby's region for a failover primary with a replica region, else its own. */
export function databaseStoreOf(cluster: { readonly failover?: Partial<NonNullable<ClusterDefinition['failover']>>; readonly backups?: Partial<ClusterDefinition['backups']> }): DatabaseStore {
  if (cluster.backups?.databaseStore) return cluster.backups.databaseStore;
  return cluster.failover?.standbyCluster && cluster.backups?.replicaRegion ? DatabaseStore.standbyRegion() : DatabaseStore.ownRegion();
}
