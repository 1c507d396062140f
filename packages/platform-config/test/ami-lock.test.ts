import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AMI_LOCK, defaultPlatform, loadPlatform, renderAmiLock } from '../src';
import { problems, withChange, type Raw, type RawInput } from './support';

const REAL = 'while settings.example is false (a platform that is applied)';
const REAL_IMAGE = { imageId: 'ami-0f3a9c1d2b4e5f607', name: 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20261120', creationDate: '2026-11-20T08:15:00.000Z', source: { ssmParameter: '/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id', owner: '099720109477' }, kubernetesMinors: ['1.34'] };

const corpus: [string, (input: RawInput) => void, string][] = [
  ['no lock object', (i) => (i.amiLock = []), 'amiLock: got []; expected an object keyed by region (packages/platform-config/src/ami-lock.json)'],
  ['a cluster region without images', (i) => delete i.amiLock['ap-northeast-1'], 'amiLock.ap-northeast-1: got nothing; expected the images of ap-northeast-1, where clusters[2].controlPlane.instanceType m7i.large (dr) runs (npm run pipeline:ami-lock -- --write)'],
  [
    'an architecture a pool needs',
    (i) => (i.clusters[1].workerPools[1].instanceTypes = ['m7g.large']),
    'amiLock.ap-northeast-2.arm64: got nothing; expected the arm64 image of ap-northeast-2, which clusters[1].workerPools[1].instanceTypes[0] m7g.large (production) needs (npm run pipeline:ami-lock -- --write)',
  ],
  ['image id not an AMI id', (i) => (i.amiLock['ap-northeast-2'].x86_64.imageId = 'resolve:ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id'), 'amiLock.ap-northeast-2.x86_64.imageId: got "resolve:ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/...; expected an EC2 image id: ami- and 8 or 17 lowercase hexadecimal digits'],
  ['image id with upper case', (i) => (i.amiLock['ap-northeast-2'].x86_64.imageId = 'ami-0ABCDEF1234567890'), 'amiLock.ap-northeast-2.x86_64.imageId: got "ami-0ABCDEF1234567890"; expected an EC2 image id: ami- and 8 or 17 lowercase hexadecimal digits'],
  [
    'placeholder image on a platform that is applied',
    (i) => {
      i.settings.example = false;
      i.settings.accountId = '210987654321';
      i.settings.dns = { ...i.settings.dns, hostedZoneName: 'hakube.net.invalid.org', hostedZoneId: 'Z0123HAKUBE4567' };
      i.clusters.forEach((c: Raw) => c.apiEndpoint.allowedCidrs && (c.apiEndpoint.allowedCidrs = ['198.18.0.0/24']));
      i.amiLock['ap-northeast-1'].x86_64 = REAL_IMAGE;
    },
    `amiLock.ap-northeast-2.x86_64.imageId: got "ami-0abcdef1234567890"; expected an image resolved in the region (npm run pipeline:ami-lock -- --write), not a documentation placeholder, ${REAL}`,
  ],
  ['no name', (i) => (i.amiLock['ap-northeast-2'].x86_64.name = ''), 'amiLock.ap-northeast-2.x86_64.name: got ""; expected the image name describe-images reports'],
  ['creation date not UTC', (i) => (i.amiLock['ap-northeast-2'].x86_64.creationDate = '2026-11-20 08:15'), 'amiLock.ap-northeast-2.x86_64.creationDate: got "2026-11-20 08:15"; expected the image CreationDate in UTC, like 2026-11-20T08:15:00.000Z'],
  ['source not a public parameter', (i) => (i.amiLock['ap-northeast-2'].x86_64.source.ssmParameter = '/hakube/ami'), 'amiLock.ap-northeast-2.x86_64.source.ssmParameter: got "/hakube/ami"; expected the public SSM parameter it was resolved from (/aws/service/…)'],
  ['owner not an account id', (i) => (i.amiLock['ap-northeast-2'].x86_64.source.owner = 'canonical'), 'amiLock.ap-northeast-2.x86_64.source.owner: got "canonical"; expected the 12-digit account id that owns the image'],
  ['minors not a list', (i) => (i.amiLock['ap-northeast-2'].x86_64.kubernetesMinors = '1.34'), 'amiLock.ap-northeast-2.x86_64.kubernetesMinors: got "1.34"; expected the Kubernetes minors the image serves, e.g. ["1.34"]'],
  ['a cluster minor the image does not serve', (i) => (i.clusters[0].kubernetesVersion = '1.33.5'), 'amiLock.ap-northeast-2.x86_64.kubernetesMinors: got ["1.34"]; expected to include 1.33, the minor of the clusters in ap-northeast-2 (npm run pipeline:ami-lock -- --write)'],
];

describe('the AMI lock', () => {
  it.each(corpus)('rejects %s with one exact message', (_name, change, message) => {
    expect(problems(withChange(change))).toEqual([message]);
  });

  it('accepts the committed lock on the example platform and names the image every cluster node boots', () => {
    const platform = defaultPlatform();
    expect(platform.imageOf('production', 'x86_64').imageId).toMatch(/^ami-[0-9a-f]{8,17}$/);
    expect(platform.imageOf('dr', 'x86_64')).toEqual(AMI_LOCK['ap-northeast-1']?.x86_64);
    expect(() => platform.imageOf('dr', 'arm64')).toThrow('amiLock.ap-northeast-1.arm64: got nothing; expected an entry in packages/platform-config/src/ami-lock.json');
  });

  it('accepts a resolved image on a platform that is applied (the placeholder case above fails only on its id)', () => {
    const input = withChange((i) => {
      i.settings.example = false;
      i.settings.accountId = '210987654321';
      i.settings.dns = { ...i.settings.dns, hostedZoneName: 'hakube.net.invalid.org', hostedZoneId: 'Z0123HAKUBE4567' };
      i.clusters.forEach((c: Raw) => c.apiEndpoint.allowedCidrs && (c.apiEndpoint.allowedCidrs = ['198.18.0.0/24']));
      i.amiLock['ap-northeast-1'].x86_64 = REAL_IMAGE;
      i.amiLock['ap-northeast-2'].x86_64 = { ...REAL_IMAGE, imageId: 'ami-09b1c2d3e4f5a6b7c' };
    });
    expect(loadPlatform(input).imageOf('staging', 'x86_64').imageId).toBe('ami-09b1c2d3e4f5a6b7c');
  });

  it('is committed in its rendered form (a rewrite by pipeline ami-lock changes only what changed)', () => {
    expect(readFileSync(join(__dirname, '..', 'src', 'ami-lock.json'), 'utf8')).toBe(renderAmiLock(AMI_LOCK));
  });
});
