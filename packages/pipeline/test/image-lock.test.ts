import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cpuConsumerTagRef, defaultPlatform, SCALE_DAY_IMAGE_LOCK_FILE, type Platform } from '@platform/platform-config';
import { imageLockCommand, IMAGE_LOCK_PR_BODY } from '../src/cli/commands/image-lock';
import { main } from '../src/cli/main';
import { OciRegistryClient } from '../src/io/registry';
import { recordingActions } from './support/actions';
import { indexManifest, startFakeRegistry, type FakeRegistry } from './support/fake-registry';
import { writeFiles } from './support/git';

/**
 * The scale-day image lock (item: the CPU consumer was a placeholder digest): `--write` resolves
 * the tag through registry.k8s.io's redirect to its backend (fake registries on 127.0.0.1, as the
 * OCI distribution spec has them), `--verify <cluster>` is the scale-day workflow's check before
 * the load: the committed manifest, the lock and the registry agree.
 */

const platform = defaultPlatform();
const applied = { ...platform, settings: { ...platform.settings, example: false } } as Platform;
const REF = cpuConsumerTagRef();
const NAME = `k8s-artifacts-prod/images/${REF.slice('registry.k8s.io/'.length, REF.lastIndexOf(':'))}`;
const TAG = REF.slice(REF.lastIndexOf(':') + 1);
const MANIFEST = 'clusters/staging/apps/sample-web.yaml';

let front: FakeRegistry;
let backend: FakeRegistry;
let logs: string[];
let errors: string[];

beforeEach(async () => {
  backend = await startFakeRegistry({ service: 'artifactregistry' });
  front = await startFakeRegistry({ redirectTo: { registry: backend, prefix: 'k8s-artifacts-prod/images' } });
  logs = [];
  errors = [];
  vi.spyOn(console, 'log').mockImplementation((line: string) => void logs.push(line));
  vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
});
afterEach(async () => {
  await Promise.all([front.close(), backend.close()]);
  vi.restoreAllMocks();
});

const deployment = (image: string) => `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: agnhost\n        - name: cpu-consumer\n          image: ${image}\n`;

function repo(lock: string | null, rendered: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pipeline-image-lock-'));
  writeFiles(dir, { [SCALE_DAY_IMAGE_LOCK_FILE]: `${JSON.stringify({ [REF]: lock }, null, 2)}\n`, [MANIFEST]: deployment(rendered) });
  return dir;
}

async function run(dir: string, args: string[], p: Platform = platform) {
  const actions = recordingActions();
  const registry = new OciRegistryClient({ endpoint: (host) => (host === 'registry.k8s.io' ? front.url : 'http://127.0.0.1:9') });
  const code = await main(['image-lock', ...args], dir, p, { actions, commands: { 'image-lock': imageLockCommand({ registry }) } as never });
  return { code, actions };
}

describe('image-lock --write', () => {
  it('pins the tag\'s digest, asked of the registry through its redirect; a second run changes nothing', async () => {
    const digest = backend.push(NAME, indexManifest(TAG), TAG);
    const dir = repo(null, REF);
    const first = await run(dir, ['--write']);
    expect(errors).toEqual([]);
    expect(first.code).toBe(0);
    expect(readFileSync(join(dir, SCALE_DAY_IMAGE_LOCK_FILE), 'utf8')).toBe(`{\n  "${REF}": "${digest}"\n}\n`);
    expect(first.actions.outputs.changed).toBe('true');
    // The pull request image-lock.yml opens says what moved.
    const body = readFileSync(join(dir, 'dist', 'pipeline', IMAGE_LOCK_PR_BODY), 'utf8');
    expect(body.split('\n')[0]).toBe('### Scale-day image lock');
    expect(body).toContain(digest);
    expect((await run(dir, ['--write'])).actions.outputs.changed).toBe('false');
  });

  it('refuses a tag the registry does not have, and writes nothing', async () => {
    const dir = repo(null, REF);
    expect((await run(dir, ['--write'])).code).toBe(1);
    expect(errors).toEqual([`pipeline image-lock: ${REF} is not in the registry (tag ${TAG} unknown in ${REF.slice(0, REF.lastIndexOf(':'))}); expected a tag that was pushed there`]);
    expect(JSON.parse(readFileSync(join(dir, SCALE_DAY_IMAGE_LOCK_FILE), 'utf8'))).toEqual({ [REF]: null });
  });
});

describe('image-lock --verify <cluster> (scale-day.yml, before the load)', () => {
  it('passes when the manifest runs the locked digest, the registry serves it and the tag resolves to it', async () => {
    const digest = backend.push(NAME, indexManifest(TAG), TAG);
    expect((await run(repo(digest, `${REF}@${digest}`), ['--verify', 'staging'])).code).toBe(0);
    expect(logs).toContain(`pipeline: scale-day: ${REF.slice(0, REF.lastIndexOf(':'))}@${digest} is in the registry (application/vnd.oci.image.index.v1+json), and :${TAG} resolves to it`);
  });

  it('fails when the locked digest is gone from the registry, or the tag moved to another image', async () => {
    const digest = backend.push(NAME, indexManifest(TAG), TAG);
    const moved = backend.push(NAME, indexManifest(`${TAG}-rebuilt`), TAG);
    expect((await run(repo(digest, `${REF}@${digest}`), ['--verify', 'staging'])).code).toBe(1);
    expect(errors).toEqual([`pipeline image-lock: scale-day: ${REF} resolves to ${moved}; expected ${digest}, the digest to deploy (the tag moved, or the digest is another image's)`]);
    backend.remove(NAME, digest);
    errors.length = 0;
    expect((await run(repo(digest, `${REF}@${digest}`), ['--verify', 'staging'])).code).toBe(1);
    expect(errors[0]).toContain(`is not in the registry (manifest ${digest} unknown in`);
  });

  it('fails when the committed manifest does not run what the lock renders (synth not re-run)', async () => {
    const digest = backend.push(NAME, indexManifest(TAG), TAG);
    expect((await run(repo(digest, REF), ['--verify', 'staging'])).code).toBe(1);
    expect(errors).toEqual([`pipeline image-lock: ${MANIFEST} runs ${REF}; expected ${REF}@${digest}, what the image lock renders (synthesize and merge first)`]);
  });

  it('unpinned: reports the digest to pin on the example platform, refuses on a platform that is applied', async () => {
    const digest = backend.push(NAME, indexManifest(TAG), TAG);
    const pin = `pin it: npm run pipeline:image-lock -- --write (${REF} → ${digest})`;
    const example = await run(repo(null, REF), ['--verify', 'staging']);
    expect(example.code).toBe(0);
    expect(example.actions.summaries.join('')).toContain(`${REF}: not pinned (example platform): the pods pull the tag, which the registry resolves to ${digest} now; ${pin}`);
    expect((await run(repo(null, REF), ['--verify', 'staging'], applied)).code).toBe(1);
    expect(errors).toEqual([`pipeline image-lock: ${REF}: the image lock has no digest; expected one on a platform that is applied (settings.example false): ${pin}`]);
  });

  it('has nothing to check on a cluster whose profile runs no consumer, and refuses an unknown cluster', async () => {
    expect((await run(repo(null, REF), ['--verify', 'production'])).code).toBe(0);
    expect(front.requests).toEqual([]);
    expect((await run(repo(null, REF), ['--verify', 'nowhere'])).code).toBe(2);
    expect((await run(repo(null, REF), [])).code).toBe(2);
  });
});
