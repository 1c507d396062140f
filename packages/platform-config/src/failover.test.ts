import { describe, expect, it } from 'vitest';
import { defaultPlatform } from './default-platform';
import { failoverRole, REGIONAL_RPO_SECONDS, S3_REPLICATION_BOUND_SECONDS, WAL_ARCHIVE_REPLICATION_SECONDS, WAL_ARCHIVE_TIMEOUT_SECONDS, WAL_ARCHIVER_BOUND_SECONDS } from './failover';

const platform = defaultPlatform();

describe('shipped failover pair', () => {
  it("keeps every replica of the standby outside its primary's region (the standby's stack must plan while the primary's region is down)", () => {
    const standby = platform.cluster('dr');
    const pair = failoverRole(platform.clusters, standby)!;
    expect(pair.role).toBe('standby');
    expect(standby.backups.replicaRegion).toBeDefined();
    expect(standby.backups.replicaRegion).not.toBe(pair.primary.region);
  });

  it('declares the regional RPO from the archive timeout, the archiver bound and no replication (the WAL is written into the standby region)', () => {
    expect(WAL_ARCHIVE_REPLICATION_SECONDS).toBe(0);
    expect(REGIONAL_RPO_SECONDS).toBe(WAL_ARCHIVE_TIMEOUT_SECONDS + WAL_ARCHIVER_BOUND_SECONDS);
    // Issue #19: RPO ≤ 5 min; the objective holds the figure with room, and RTC's 15 min is not in it.
    const objective = platform.cluster('production').objectives.regionRpoSeconds!;
    expect(objective).toBeLessThanOrEqual(300);
    expect(objective).toBeGreaterThanOrEqual(REGIONAL_RPO_SECONDS);
    expect(objective).toBeLessThan(S3_REPLICATION_BOUND_SECONDS);
  });

  it('archives the primary database into its bucket in the standby region, every other database in its own region', () => {
    const production = platform.namesOf('production');
    expect(production.appWalArchive).toEqual({ bucket: production.appBackupReplicaBucket, region: platform.cluster('dr').region });
    expect(platform.namesOf('dr').appWalArchive).toEqual({ bucket: platform.namesOf('dr').appBackupBucket, region: platform.cluster('dr').region });
    expect(platform.namesOf('staging').appWalArchive).toEqual({ bucket: platform.namesOf('staging').appBackupBucket, region: platform.cluster('staging').region });
  });
});
