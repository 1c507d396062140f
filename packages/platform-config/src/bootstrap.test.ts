import { describe, expect, it } from 'vitest';
import { bootstrapNames, CORE_ADDONS, defaultPlatform } from './index';

describe('bootstrapNames', () => {
  it('keeps bootstrap names under the cluster SSM prefix the node role may read', () => {
    const names = defaultPlatform().namesOf('production');
    const derived = bootstrapNames(names);
    expect(derived.restoreFrom).toBe('/hakube/production/kubeadm/restore-from');
    expect(derived.restoreFrom.startsWith(`${names.ssmPrefix}/`)).toBe(true);
    expect(derived.etcdSnapshotPrefix).toBe('etcd-snapshots/production');
    expect(derived.joinRefreshLock).toBe('/hakube/production/kubeadm/join-refresh-lock');
    expect(derived.joinRefreshLock.startsWith(`${names.ssmPrefix}/`)).toBe(true);
  });

  it('pins every core add-on chart to an exact version', () => {
    for (const chart of [CORE_ADDONS.cilium, CORE_ADDONS.awsCloudController, CORE_ADDONS.fluxOperator]) {
      expect(chart.version).toMatch(/^\d+\.\d+\.\d+$/);
    }
  });
});
