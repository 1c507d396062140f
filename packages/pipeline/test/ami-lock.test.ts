import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AMI_LOCK, AMI_LOCK_FILE, CANONICAL_OWNER, defaultPlatform, loadPlatform, platformInput, renderAmiLock, UBUNTU_2404_SOURCES, type AmiLock } from '@platform/platform-config';
import { amiLockCommand, AMI_LOCK_PR_BODY } from '../src/cli/commands/ami-lock';
import { COMMANDS, main } from '../src/cli/main';
import { awsCliImageCatalog } from '../src/io/aws-images';
import { resolveAmiLock, type Ec2Image } from '../src/operations/ami-lock';
import { recordingActions } from './support/actions';
import { FAKE_ACCOUNT, fakeAwsImages, type FakeRegion } from './support/fake-aws-images';
import { ROOT } from './support/infra-synth';

const platform = defaultPlatform();
const AMD64 = UBUNTU_2404_SOURCES.x86_64.ssmParameter;

const image = (id: string, date: string, change: Partial<Ec2Image> = {}): Ec2Image => ({ ImageId: id, Name: `ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-${date.slice(0, 10).replace(/-/g, '')}`, CreationDate: date, OwnerId: CANONICAL_OWNER, Architecture: 'x86_64', State: 'available', ...change });

/** Both cluster regions, each with an older image and the current one its parameter names. */
function regions(change: (r: Record<string, FakeRegion>) => void = () => {}): Record<string, FakeRegion> {
  const r: Record<string, FakeRegion> = {
    'ap-northeast-1': { parameters: { [AMD64]: 'ami-0e1f2a3b4c5d6e7f8' }, images: [image('ami-0e1f2a3b4c5d6e7f8', '2026-12-01T10:11:12.000Z'), image('ami-0a0a0a0a0a0a0a0a0', '2026-10-01T00:00:00.000Z')] },
    'ap-northeast-2': { parameters: { [AMD64]: 'ami-01b2c3d4e5f60718a' }, images: [image('ami-0b0b0b0b0b0b0b0b0', '2026-09-01T00:00:00.000Z'), image('ami-01b2c3d4e5f60718a', '2026-12-01T09:00:00.000Z')] },
  };
  change(r);
  return r;
}

/** A scratch repository root holding a copy of the committed lock. */
function scratchRoot(lock: string = readFileSync(join(ROOT, AMI_LOCK_FILE), 'utf8')): string {
  const root = mkdtempSync(join(tmpdir(), 'ami-lock-'));
  mkdirSync(dirname(join(root, AMI_LOCK_FILE)), { recursive: true });
  writeFileSync(join(root, AMI_LOCK_FILE), lock);
  return root;
}

async function run(root: string, args: string[], fake: ReturnType<typeof fakeAwsImages>) {
  const actions = recordingActions();
  const code = await main(['ami-lock', ...args], root, platform, { actions, commands: { ...COMMANDS, 'ami-lock': amiLockCommand({ catalog: awsCliImageCatalog(fake) }) } });
  return { code, actions, lock: JSON.parse(readFileSync(join(root, AMI_LOCK_FILE), 'utf8')) as AmiLock, text: readFileSync(join(root, AMI_LOCK_FILE), 'utf8') };
}

describe('pipeline ami-lock against a fake SSM and EC2', () => {
  it('is a registered command', () => {
    expect(Object.keys(COMMANDS)).toContain('ami-lock');
  });

  it('--write pins the image each region parameter names, with its name, date and source, in the rendered form', async () => {
    const root = scratchRoot();
    const fake = fakeAwsImages(regions());
    const { code, actions, lock, text } = await run(root, ['--write'], fake);
    expect(code).toBe(0);
    expect(lock['ap-northeast-1']?.x86_64).toEqual({ imageId: 'ami-0e1f2a3b4c5d6e7f8', name: 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20261201', creationDate: '2026-12-01T10:11:12.000Z', source: { ssmParameter: AMD64, owner: '099720109477' }, kubernetesMinors: ['1.34'] });
    expect(lock['ap-northeast-2']?.x86_64?.imageId).toBe('ami-01b2c3d4e5f60718a');
    expect(text).toBe(renderAmiLock(lock));
    expect(actions.outputs.changed).toBe('true');
    expect(readFileSync(join(root, 'dist', 'pipeline', AMI_LOCK_PR_BODY), 'utf8')).toContain('| ap-northeast-2 | x86_64 | `ami-0abcdef1234567890` (2026-11-20) | `ami-01b2c3d4e5f60718a` (2026-12-01) |');
    // The written lock is one a platform that is applied accepts (no placeholder left).
    const real = loadPlatform({ ...platformInput, settings: { ...platformInput.settings, example: false, accountId: '210987654321', dns: { ...platformInput.settings.dns!, hostedZoneName: 'hakube.io', hostedZoneId: 'Z04178122G3ZKXW4BXQ1V' } }, clusters: platformInput.clusters.map((c) => ({ ...c, apiEndpoint: { ...c.apiEndpoint, allowedCidrs: ['52.78.10.0/24'] } })), amiLock: lock });
    expect(real.imageOf('dr', 'x86_64').imageId).toBe('ami-0e1f2a3b4c5d6e7f8');
    // One get-parameters and one describe-images per region, read-only calls only; then staging's
    // baked image (NodeImage.baked()) among this account's own images in its region.
    expect(fake.calls.map((c) => c.split(' ').slice(0, 2).join(' '))).toEqual(['ssm get-parameters', 'ec2 describe-images', 'ssm get-parameters', 'ec2 describe-images', 'ec2 describe-images']);
    expect(fake.calls[4]).toBe('ec2 describe-images --owners self --filters Name=name,Values=hakube-node-1-34-1-x86-64-* --region ap-northeast-2 --output json');
    // No build yet: nothing baked recorded, staging boots the Ubuntu image.
    expect(lock['ap-northeast-2']?.x86_64?.baked).toBeUndefined();
  });

  it('records the newest available image our pipeline built for a baked cluster, never a public look-alike or an unfinished build', async () => {
    const root = scratchRoot();
    const built = (id: string, date: string, change: Partial<Ec2Image> = {}) => image(id, date, { Name: `hakube-node-1-34-1-x86-64-${date.replace(/[:.]/g, '-')}`, OwnerId: FAKE_ACCOUNT, ...change });
    const fake = fakeAwsImages(
      regions((r) => {
        r['ap-northeast-2']!.images.push(
          built('ami-0ba4ed00000000001', '2026-11-29T18:40:00.000Z'),
          built('ami-0ba4ed00000000002', '2026-12-06T18:40:00.000Z'),
          // A build still running, and someone else's image named like ours (public AMIs can be named anything).
          built('ami-0ba4ed00000000003', '2026-12-07T18:40:00.000Z', { State: 'pending' }),
          built('ami-0ba4ed00000000004', '2026-12-08T18:40:00.000Z', { OwnerId: '999988887777' }),
        );
      }),
    );
    const { code, lock } = await run(root, ['--write'], fake);
    expect(code).toBe(0);
    expect(lock['ap-northeast-2']?.x86_64?.baked).toEqual({ '1.34.1': { imageId: 'ami-0ba4ed00000000002', name: 'hakube-node-1-34-1-x86-64-2026-12-06T18-40-00-000Z', creationDate: '2026-12-06T18:40:00.000Z', pipeline: 'hakube-node-1-34-1-x86-64' } });
    // The region without a baked cluster gets no baked entry; the written lock loads, and staging boots the baked image, production the Ubuntu one.
    expect(lock['ap-northeast-1']?.x86_64?.baked).toBeUndefined();
    const loaded = loadPlatform({ ...platformInput, amiLock: lock });
    const staging = loaded.cluster('staging');
    expect(staging.nodeImage.imageIdOf(loaded.imageOf('staging', 'x86_64'), staging.kubernetesVersion)).toBe('ami-0ba4ed00000000002');
    expect(loaded.cluster('production').nodeImage.imageIdOf(loaded.imageOf('production', 'x86_64'), '1.34.1')).toBe('ami-01b2c3d4e5f60718a');
  });

  it('changes nothing when the lock is current (changed=false, the file byte for byte)', async () => {
    const root = scratchRoot();
    await run(root, ['--write'], fakeAwsImages(regions()));
    const before = readFileSync(join(root, AMI_LOCK_FILE), 'utf8');
    const again = await run(root, ['--write'], fakeAwsImages(regions()));
    expect(again.actions.outputs.changed).toBe('false');
    expect(again.text).toBe(before);
  });

  it('without --write only reports', async () => {
    const root = scratchRoot();
    const { code, text, actions } = await run(root, [], fakeAwsImages(regions()));
    expect(code).toBe(0);
    expect(text).toBe(renderAmiLock(AMI_LOCK));
    expect(actions.summaries.join('')).toContain('`ami-0e1f2a3b4c5d6e7f8`');
  });

  it('fails, writing nothing, when a region has no such parameter (InvalidParameters)', async () => {
    const root = scratchRoot();
    const { code, text } = await run(root, ['--write'], fakeAwsImages(regions((r) => (r['ap-northeast-1']!.parameters = {}))));
    expect(code).toBe(1);
    expect(text).toBe(renderAmiLock(AMI_LOCK));
  });

  it('refuses an image another account owns, or one not available', async () => {
    for (const change of [{ OwnerId: '123456789012' }, { State: 'pending' }]) {
      const fake = fakeAwsImages(regions((r) => (r['ap-northeast-2']!.images[1] = { ...r['ap-northeast-2']!.images[1]!, ...change })));
      await expect(awsCatalogResolve(fake)).rejects.toThrow(`ap-northeast-2: ami-01b2c3d4e5f60718a (from ${AMD64}) ${Object.keys(change)[0]}: got ${JSON.stringify(Object.values(change)[0])}`);
    }
  });

  it('never moves a region back to an older image than the one locked', async () => {
    const newer = { ...AMI_LOCK, 'ap-northeast-2': { x86_64: { ...AMI_LOCK['ap-northeast-2']!.x86_64!, imageId: 'ami-0c0c0c0c0c0c0c0c0', creationDate: '2026-12-03T00:00:00.000Z' } } };
    const root = scratchRoot(renderAmiLock(newer));
    const { lock } = await run(root, ['--write'], fakeAwsImages(regions()));
    expect(lock['ap-northeast-2']?.x86_64?.imageId).toBe('ami-0c0c0c0c0c0c0c0c0');
    expect(lock['ap-northeast-1']?.x86_64?.imageId).toBe('ami-0e1f2a3b4c5d6e7f8');
  });
});

function awsCatalogResolve(fake: ReturnType<typeof fakeAwsImages>) {
  return resolveAmiLock(platform, awsCliImageCatalog(fake), AMI_LOCK);
}
