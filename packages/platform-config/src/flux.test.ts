import { describe, expect, it } from 'vitest';
import { defaultPlatform, FLUX_INSTANCE_NAMES, FLUX_OPERATOR_VALUES, fluxGitSync, loadPlatform, platformInput } from './index';

describe('fluxGitSync', () => {
  const platform = defaultPlatform();
  const production = platform.cluster('production');

  it('defaults to a private repository read with the Git Secret', () => {
    expect(production.gitops.auth).toBe('token');
    expect(fluxGitSync(production, platform.settings, platform.namesOf('production'))).toEqual({
      kind: 'GitRepository',
      name: 'flux-system',
      url: 'https://github.com/hakube-platform/ha-kube-platform.git',
      ref: 'refs/heads/main',
      path: 'clusters/production',
      interval: '5m',
      pullSecret: FLUX_INSTANCE_NAMES.gitSecret,
    });
  });

  it('names no Secret for a public repository (gitops.auth none)', () => {
    const input = structuredClone(platformInput);
    const staging = input.clusters.find((c) => c.name === 'staging');
    if (!staging) throw new Error('staging missing from the shipped platform');
    staging.gitops = { ...staging.gitops, auth: 'none' };
    const loaded = loadPlatform(input);
    const sync = fluxGitSync(loaded.cluster('staging'), loaded.settings, loaded.namesOf('staging'));
    expect(sync).not.toHaveProperty('pullSecret');
    expect(sync).toMatchObject({ path: 'clusters/staging', url: 'https://github.com/hakube-platform/ha-kube-platform.git' });
  });

  it('lets flux-operator run before any worker exists: it tolerates the control-plane taint', () => {
    expect(FLUX_OPERATOR_VALUES.tolerations).toContainEqual({ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' });
  });
});
