import { describe, expect, it } from 'vitest';
import { defaultPlatform } from './default-platform';
import { failoverRole, REGIONAL_RPO_SECONDS, S3_REPLICATION_BOUND_SECONDS, WAL_ARCHIVE_TIMEOUT_SECONDS } from './failover';

const platform = defaultPlatform();

describe('shipped failover pair', () => {
  it("keeps every replica of the standby outside its primary's region (the standby's stack must plan while the primary's region is down)", () => {
    const standby = platform.cluster('dr');
    const pair = failoverRole(platform.clusters, standby)!;
    expect(pair.role).toBe('standby');
    expect(standby.backups.replicaRegion).toBeDefined();
    expect(standby.backups.replicaRegion).not.toBe(pair.primary.region);
  });

  it('declares the regional RPO the archive timeout and the replication bound give', () => {
    expect(REGIONAL_RPO_SECONDS).toBe(WAL_ARCHIVE_TIMEOUT_SECONDS + S3_REPLICATION_BOUND_SECONDS);
    expect(platform.cluster('production').objectives.regionRpoSeconds).toBe(REGIONAL_RPO_SECONDS);
  });
});
