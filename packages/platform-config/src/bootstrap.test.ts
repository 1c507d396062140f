import { describe, expect, it } from 'vitest';
import { bootstrapNames, defaultPlatform } from './index';

describe('bootstrapNames', () => {
  it('keeps bootstrap names under the cluster SSM prefix the node role may read', () => {
    const names = defaultPlatform().namesOf('production');
    const derived = bootstrapNames(names);
    expect(derived.restoreFrom).toBe('/hakube/production/kubeadm/restore-from');
    expect(derived.restoreFrom.startsWith(`${names.ssmPrefix}/`)).toBe(true);
    expect(derived.restoreUrl).toBe('/hakube/production/kubeadm/restore-url');
    expect(derived.etcdSnapshotPrefix).toBe('etcd-snapshots/production');
    expect(derived.etcdGeneration).toBe('/hakube/production/etcd/generation');
    expect(derived.joinRefreshLock).toBe('/hakube/production/kubeadm/join-refresh-lock');
    expect(derived.joinRefreshLock.startsWith(`${names.ssmPrefix}/`)).toBe(true);
    expect(derived.serviceAccountPreviousKey).toBe('/hakube/production/service-account/previous-public-key');
    expect(derived.serviceAccountNextKey).toBe('/hakube/production/service-account/next-private-key');
    expect(derived.serviceAccountRotation).toBe('/hakube/production/service-account/rotation');
    expect(derived.serviceAccountKeyAcks).toBe('/hakube/production/service-account/key-set');
    expect(derived.identityStageRecords).toBe('/hakube/production/identity-stage');
    expect(derived.bundleKey('control-plane')).toBe('bootstrap/control-plane.lzma');
    expect(derived.bundleKey('worker')).toBe('bootstrap/worker.lzma');
  });
});
