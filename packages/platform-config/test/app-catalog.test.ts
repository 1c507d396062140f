import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_CATALOG, defaultPlatform, loadPlatform, parseAppCatalog, renderAppCatalog } from '../src';
import { problems, withChange, type RawInput } from './support';

const WEB = 'sha256:99c6b4bb4a1e1df3f0b3752168c89358794d02258ebebc26bf21c29399011a85';
const HEX = 'sha256: and 64 lowercase hexadecimal digits';

// One wrong catalog entry each, and the exact message synth fails with.
const corpus: [string, (input: RawInput) => void, string][] = [
  ['a tag instead of a digest', (i) => (i.appCatalog.apps.web.digests.staging = '2.53'), `appCatalog.apps.web.digests.staging: got "2.53"; expected a digest (${HEX}), not the tag "2.53": a tag can be moved to another image, a digest names exactly one`],
  ['a full image reference instead of the digest', (i) => (i.appCatalog.apps.web.digests.production = `registry.k8s.io/e2e-test-images/agnhost@${WEB}`), `appCatalog.apps.web.digests.production: got "registry.k8s.io/e2e-test-images/agnhost@sha256:99c6b4bb4a1e1df3f0b3752168c89...; expected the digest alone (${HEX}), not an image reference`],
  ['a digest one digit short', (i) => (i.appCatalog.apps.web.digests.staging = WEB.slice(0, -1)), `appCatalog.apps.web.digests.staging: got "${WEB.slice(0, -1)}"; expected ${HEX} (it has 63 characters after sha256:)`],
  ['a digest in upper case', (i) => (i.appCatalog.apps.web.digests.staging = WEB.toUpperCase().replace('SHA256', 'sha256')), `appCatalog.apps.web.digests.staging: got "${WEB.toUpperCase().replace('SHA256', 'sha256')}"; expected ${HEX} (it has 64 characters after sha256:, not all lowercase hexadecimal)`],
  ['a tag in the repository', (i) => (i.appCatalog.apps.web.repository = 'registry.k8s.io/e2e-test-images/agnhost:2.53'), 'appCatalog.apps.web.repository: got "registry.k8s.io/e2e-test-images/agnhost:2.53"; expected a lower-case image repository with its registry host and no tag or digest, such as registry.k8s.io/e2e-test-images/agnhost (the digest is per environment)'],
  ['HPA minimum above the maximum', (i) => (i.appCatalog.apps.web.scaling.minReplicas = 13), 'appCatalog.apps.web.scaling.minReplicas: got 13; expected at most maxReplicas (12)'],
  [
    'HPA minimum below one replica per zone',
    (i) => (i.appCatalog.apps['orders-api'].scaling.minReplicas = 2),
    'appCatalog.apps.orders-api.scaling.minReplicas: got 2; expected at least 3, one replica per Availability Zone of dr (ap-northeast-1a, ap-northeast-1c, ap-northeast-1d): the HA workload pattern spreads one per zone so losing a zone never takes every replica',
  ],
  [
    'HPA maximum below the one-per-zone default minimum',
    (i) => (i.appCatalog.apps.web.scaling.maxReplicas = 2),
    'appCatalog.apps.web.scaling.maxReplicas: got 2; expected at least 3: minReplicas defaults to one per Availability Zone, and dr spans 3',
  ],
  ['HPA target outside 10–95 %', (i) => (i.appCatalog.apps.web.scaling.targetCpuPercent = 100), 'appCatalog.apps.web.scaling.targetCpuPercent: got 100; expected 10 to 95'],
  [
    'CPU requests above the largest worker',
    (i) => (i.appCatalog.apps.web.resources.requests.cpuMillis = 3000),
    "appCatalog.apps.web.resources.requests.cpuMillis: got 3000; expected at most 1930, the allocatable millicores of t3.large, the largest instance type of staging's worker pools a pod without tolerations runs on (general)",
  ],
  [
    'memory requests above the largest untainted worker (the tainted burst pool does not count)',
    (i) => {
      i.clusters[1].workerPools[0].instanceTypes = ['m7i.large'];
      i.clusters[1].workerPools[1].instanceTypes = ['m7i.2xlarge'];
      i.appCatalog.apps.web.clusters = ['production', 'dr'];
      delete i.appCatalog.apps.web.digests.staging;
      i.appCatalog.apps.web.resources.requests.memoryMiB = 7000;
      i.appCatalog.apps.web.resources.limits.memoryMiB = 8000;
    },
    "appCatalog.apps.web.resources.requests.memoryMiB: got 7000; expected at most 6248, the allocatable MiB of m7i.large, the largest instance type of production's worker pools a pod without tolerations runs on (general)",
  ],
  ['a memory limit below the request', (i) => (i.appCatalog.apps.web.resources.limits.memoryMiB = 64), 'appCatalog.apps.web.resources.limits.memoryMiB: got 64; expected at least requests.memoryMiB (128)'],
  ['an unknown cluster', (i) => (i.appCatalog.apps.web.clusters[1] = 'tokyo'), 'appCatalog.apps.web.clusters[1]: got "tokyo"; expected the name of a cluster: staging, production, dr'],
  ['no digest for an environment that runs the app', (i) => delete i.appCatalog.apps.web.digests.staging, 'appCatalog.apps.web.digests.staging: got nothing; expected a digest for staging, where staging runs web'],
  [
    'no production digest: the standby runs it too',
    (i) => delete i.appCatalog.apps.web.digests.production,
    'appCatalog.apps.web.digests.production: got nothing; expected a digest for production, where dr, production run web (dr is the standby of production and runs its digest)',
  ],
  ['a digest of its own for the standby', (i) => (i.appCatalog.apps.web.digests['disaster-recovery'] = WEB), `appCatalog.apps.web.digests.disaster-recovery: got "${WEB}"; expected no digest of its own: dr is the standby of production and runs its digest`],
  ['a digest for an environment that runs nothing', (i) => (i.appCatalog.apps.web.clusters = ['production', 'dr']), `appCatalog.apps.web.digests.staging: got "${WEB}"; expected no digest: no cluster running web is a staging cluster (web.clusters lists production, dr)`],
  ['a digest never released', (i) => (i.appCatalog.apps.web.digests.production = `sha256:${'a'.repeat(64)}`), `appCatalog.apps.web.digests.production: got "sha256:${'a'.repeat(64)}"; expected a digest recorded in web.history (pipeline release records each one, and a rollback promotes one of them)`],
  ['a revoked mark that is not a boolean', (i) => (i.appCatalog.apps.web.history[0].revoked = 'yes'), 'appCatalog.apps.web.history[0].revoked: got "yes"; expected true or false (true: promote-release refuses this digest)'],
  ['an unknown field', (i) => (i.appCatalog.apps.web.replica = 3), 'appCatalog.apps.web.replica: got 3; expected no such field (check its spelling against the AppCatalog type)'],
  ['a signature issuer that is not a URL', (i) => (i.appCatalog.apps.web.signature = { certificateIdentity: 'x', certificateOidcIssuer: 'github' }), 'appCatalog.apps.web.signature.certificateOidcIssuer: got "github"; expected the OIDC issuer URL, e.g. https://token.actions.githubusercontent.com'],
];

describe('the application catalog', () => {
  it.each(corpus)('rejects %s with one exact message', (_name, change, message) => {
    expect(problems(withChange(change))).toEqual([message]);
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
