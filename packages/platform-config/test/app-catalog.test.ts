import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_CATALOG, defaultPlatform, ecrRepositoryArnOf, loadPlatform, parseAppCatalog, releaseEcrRepositoryArns, renderAppCatalog } from '../src';
import { withChange } from './support';

const WEB = 'sha256:99c6b4bb4a1e1df3f0b3752168c89358794d02258ebebc26bf21c29399011a85';

// Its bad-input cases live in the corpus of invalid-definitions.test.ts.
describe('the application catalog', () => {
  it("derives the release role's ECR repositories from the apps that sign in to ECR, as ARNs (none in the shipped catalog)", () => {
    expect(releaseEcrRepositoryArns(defaultPlatform().appCatalog)).toEqual([]);
    const ecr = loadPlatform(
      withChange((i) => {
        i.appCatalog.apps.web.repository = '123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/acme/web';
        i.appCatalog.apps.web.registryAuth = 'ecr';
      }),
    );
    expect(releaseEcrRepositoryArns(ecr.appCatalog)).toEqual(['arn:aws:ecr:ap-northeast-2:123456789012:repository/acme/web']);
    expect(ecrRepositoryArnOf('123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/web')).toBe('arn:aws-cn:ecr:cn-north-1:123456789012:repository/web');
    expect(ecrRepositoryArnOf('public.ecr.aws/acme/web')).toBeUndefined();
  });

  it('resolves each cluster to its image by digest; the standby runs what production runs', () => {
    const platform = defaultPlatform();
    for (const cluster of ['staging', 'production', 'dr']) expect(platform.appOf(cluster, 'web')?.image).toBe(`registry.k8s.io/e2e-test-images/agnhost@${WEB}`);
    const moved = loadPlatform(
      withChange((i) => {
        const next = `sha256:${'b'.repeat(64)}`;
        i.appCatalog.apps.web.history.push({ digest: next });
        i.appCatalog.apps.web.digests.production = next;
      }),
    );
    expect(moved.appOf('dr', 'web')).toMatchObject({ digest: `sha256:${'b'.repeat(64)}`, digestEnvironment: 'production' });
    expect(moved.appOf('staging', 'web')?.digest).toBe(WEB);
  });

  it('defaults the HPA minimum to one replica per AZ of each cluster, so adding an AZ needs no catalog change', () => {
    const wider = loadPlatform(
      withChange((i) => {
        i.clusters[1].availabilityZones.push('ap-northeast-2d');
      }),
    );
    expect(wider.appOf('production', 'web')?.scaling).toEqual({ minReplicas: 4, maxReplicas: 12, targetCpuPercent: 70 });
    expect(wider.appOf('staging', 'web')?.scaling.minReplicas).toBe(3);
  });

  it('leaves out a cluster that does not run the app', () => {
    const platform = loadPlatform(
      withChange((i) => {
        i.appCatalog.apps.web.clusters = ['production', 'dr'];
        delete i.appCatalog.apps.web.digests.staging;
      }),
    );
    expect(platform.appOf('staging', 'web')).toBeUndefined();
    expect(platform.appOf('production', 'web')?.resources).toEqual({ requests: { cpuMilli: 100, memoryMiB: 128 }, limits: { memoryMiB: 256 } });
  });

  it('renders the committed file byte for byte (the release flow rewrites it deterministically)', () => {
    const text = readFileSync(join(__dirname, '..', 'src', 'app-catalog.json'), 'utf8');
    expect(renderAppCatalog(parseAppCatalog(APP_CATALOG))).toBe(text);
  });
});
