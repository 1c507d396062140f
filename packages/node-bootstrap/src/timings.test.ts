import { describe, expect, it } from 'vitest';
import { defaultPlatform } from '@platform/platform-config';
import { failoverTimings, joinMaterialTimings, MIN_TOLERATION_SECONDS, snapshotSchedule } from './timings';

const platform = defaultPlatform();

describe('failoverTimings', () => {
  it('chooses the fast heartbeat and a short toleration for production (app RTO 120 s)', () => {
    expect(failoverTimings(platform.cluster('production'))).toEqual({
      nodeStatusUpdateFrequencySeconds: 4,
      nodeLeaseDurationSeconds: 16,
      nodeStatusReportFrequencySeconds: 60,
      nodeMonitorPeriodSeconds: 2,
      nodeMonitorGracePeriodSeconds: 20,
      notReadyTolerationSeconds: 35,
      unreachableTolerationSeconds: 35,
      podStartBudgetSeconds: 60,
      detectionSeconds: 22,
      evictionSeconds: 57,
      podRecoverySeconds: 117,
    });
  });

  it('keeps upstream heartbeats and the 300 s toleration cap for staging (app RTO 900 s)', () => {
    const t = failoverTimings(platform.cluster('staging'));
    expect([t.nodeStatusUpdateFrequencySeconds, t.nodeMonitorGracePeriodSeconds, t.unreachableTolerationSeconds]).toEqual([10, 50, 300]);
  });

  it.each(platform.clusters.map((c) => [c.name, c] as const))('%s: recovers within the app RTO with a grace of five heartbeats', (_, cluster) => {
    const t = failoverTimings(cluster);
    expect(t.podRecoverySeconds).toBeLessThanOrEqual(cluster.objectives.appRtoSeconds);
    expect(t.nodeMonitorGracePeriodSeconds).toBe(5 * t.nodeStatusUpdateFrequencySeconds);
    // The lease is renewed every quarter of its duration: that renewal is the heartbeat.
    expect(t.nodeLeaseDurationSeconds / 4).toBe(t.nodeStatusUpdateFrequencySeconds);
    expect(t.notReadyTolerationSeconds).toBeGreaterThanOrEqual(MIN_TOLERATION_SECONDS);
  });

  it('rejects an app RTO that cannot be met, naming the field and the minimum', () => {
    const cluster = { ...platform.cluster('production'), objectives: { ...platform.cluster('production').objectives, appRtoSeconds: 90 } };
    expect(() => failoverTimings(cluster)).toThrow(
      'cluster production: objectives.appRtoSeconds 90 is too short; expected at least 112 (22 s to detect a dead node + 30 s minimum toleration + 60 s to start pods)',
    );
  });
});

describe('joinMaterialTimings', () => {
  it('refreshes the certificate key before kubeadm deletes the uploaded certificates', () => {
    const t = joinMaterialTimings();
    expect(t.maxAgeSeconds).toBeLessThan(t.certificateKeyLifetimeSeconds);
    expect(t.maxAgeSeconds).toBeLessThan(t.tokenTtlSeconds);
  });

  it('lets the refresh lock of a node that died mid-refresh expire before the next timer run', () => {
    const t = joinMaterialTimings();
    expect(t.refreshLockSeconds).toBeLessThan(t.refreshTimerSeconds - t.refreshJitterSeconds);
    expect(t.refreshLockSeconds).toBeGreaterThanOrEqual(60);
  });
});

describe('snapshotSchedule', () => {
  it('follows the definition and never loses more than the RPO', () => {
    for (const cluster of platform.clusters) {
      const s = snapshotSchedule(cluster);
      expect(s.intervalMinutes).toBe(cluster.backups.etcdSnapshotIntervalMinutes);
      expect(s.worstCaseDataLossMinutes).toBeLessThanOrEqual(cluster.objectives.rpoMinutes + 1);
    }
    expect(snapshotSchedule(platform.cluster('production')).intervalMinutes).toBeLessThanOrEqual(15);
  });
});

describe('operatorEnv', () => {
  it('gives operators the same parameters the nodes get', async () => {
    const { operatorEnv } = await import('./print-env');
    const env = operatorEnv('production');
    expect(env).toContain("SSM_RESTORE_FROM='/hakube/production/kubeadm/restore-from'\n");
    expect(env).toContain("BACKUP_BUCKET='hakube-production-etcd-backups-ap-northeast-2'\n");
    expect(() => operatorEnv('qa')).toThrow('unknown cluster "qa"');
  });
});
