import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderUserData } from '../src';
import { compressedBundle, scriptBundle, SCRIPTS_DIR, stripComments } from '../src/private/script-bundle';
import { BUNDLE_VERSION, type CloudConfig, inputFor, requireTool, startFakeS3, unitStartCommands } from './harness';

/*
 * fetch-bundle.py (the stub in user data) against a fake S3 that checks SigV4 with botocore's
 * own signer: it fetches exactly the pinned version, retries throttling, and refuses bytes whose
 * SHA-256 is not the one user data names.
 */
const BUCKET = 'hakube-production-bootstrap-ap-northeast-2';
const KEY = 'bootstrap/control-plane.lzma';
const VERSION = 'Xy.3_v-1';
const bundle = compressedBundle('control-plane');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const dirs: string[] = [];
afterEach(() => {
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

async function fakeS3(failFirst = 0, objects: Readonly<Record<string, Buffer>> = { [`${KEY}.${VERSION}`]: bundle }): Promise<{ root: string; endpoint: string }> {
  const root = mkdtempSync(join(tmpdir(), 'fake-s3-'));
  dirs.push(root);
  mkdirSync(join(root, BUCKET, 'bootstrap'), { recursive: true });
  for (const [name, bytes] of Object.entries(objects)) writeFileSync(join(root, BUCKET, name), bytes);
  return { root, endpoint: await startFakeS3(root, failFirst) };
}

function fetch(endpoint: string, wanted: string, version = VERSION, secret = 'fake-secret-key', backoffScale = '1') {
  const out = mkdtempSync(join(tmpdir(), 'fetched-'));
  dirs.push(out);
  const run = spawnSync('python3', [join(SCRIPTS_DIR, 'fetch-bundle.py'), 'ap-northeast-2', BUCKET, KEY, version, wanted, join(out, 'bundle.sh')], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: 'AKIAFAKEBUNDLE', AWS_SECRET_ACCESS_KEY: secret, AWS_SESSION_TOKEN: 'fake-session-token', FETCH_BUNDLE_BACKOFF_SCALE: backoffScale },
    timeout: 120_000,
  });
  return { ...run, out };
}

describe('fetch-bundle.py', () => {
  it('GETs the pinned version with a valid SigV4 signature after throttling, checks the hash and unpacks it', async () => {
    if (!requireTool('python3')) return;
    const s3 = await fakeS3(1);
    const run = fetch(s3.endpoint, sha256(bundle));
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toContain(`fetch-bundle: s3://${BUCKET}/${KEY} failed: HTTP Error 503`);
    expect(readFileSync(join(run.out, 'bundle.sh'), 'utf8')).toBe(scriptBundle('control-plane'));
    const requests = readFileSync(join(s3.root, 'requests.log'), 'utf8').trim().split('\n');
    expect(requests).toHaveLength(2);
    expect(requests[1]).toMatch(new RegExp(`^/${BUCKET}/${KEY}\\?versionId=Xy\\.3_v-1 AWS4-HMAC-SHA256 Credential=AKIAFAKEBUNDLE/\\d{8}/ap-northeast-2/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$`));
  });

  it('refuses bytes whose SHA-256 is not the pinned one and writes no script', async () => {
    if (!requireTool('python3')) return;
    const s3 = await fakeS3();
    const other = 'f'.repeat(64);
    const run = fetch(s3.endpoint, other);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`fetch-bundle: s3://${BUCKET}/${KEY} version ${VERSION} is not SHA-256 ${other}: refusing to run it`);
    expect(existsSync(join(run.out, 'bundle.sh'))).toBe(false);
  });

  it('fails (after its retries) when the signature is wrong, never running anything', async () => {
    if (!requireTool('python3')) return;
    const s3 = await fakeS3();
    // Backoff scaled down: ten attempts, 1 s doubling to 60 s each in production (≈ 5 min).
    const run = fetch(s3.endpoint, sha256(bundle), VERSION, 'wrong-secret', '0.001');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('HTTP Error 403');
    expect(run.stderr).toContain(`fetch-bundle: s3://${BUCKET}/${KEY} not fetched`);
    expect(existsSync(join(run.out, 'bundle.sh'))).toBe(false);
    expect(readFileSync(join(s3.root, 'requests.log'), 'utf8').trim().split('\n')).toHaveLength(10);
  });
});

/*
 * systemd starting node-bootstrap.service as the rendered unit says (systemd.service(5)): the
 * ExecStartPre= commands in order, then ExecStart=; a non-zero exit ends that start as failed,
 * Restart=on-failure starts it again after RestartSec=, unless the start rate limit (default 5
 * starts in 10 s; StartLimitIntervalSec=0 turns it off) is hit. Time is simulated.
 */
function systemdStart(unitText: string, local: (path: string) => string, env: NodeJS.ProcessEnv, exec: (argv: string[]) => number | undefined, maxStarts: number) {
  const key = (k: string, d: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(unitText)?.[1] ?? d;
  const seconds = (v: string) => Number(v.replace(/s$/, ''));
  const restart = key('Restart', 'no');
  const interval = seconds(key('StartLimitIntervalSec', '10'));
  const burst = Number(key('StartLimitBurst', '5'));
  const starts: number[] = [];
  let now = 0;
  while (starts.length < maxStarts) {
    if (interval > 0 && starts.filter((t) => t > now - interval).length >= burst) return { result: 'start-limit-hit', starts: starts.length };
    starts.push(now);
    let failed = false;
    for (const { argv } of unitStartCommands(unitText)) {
      const status = exec(argv) ?? spawnSync(argv[0], argv.slice(1).map(local), { encoding: 'utf8', env }).status;
      now += 1;
      if (status !== 0) {
        failed = true;
        break;
      }
    }
    if (!failed) return { result: 'active', starts: starts.length };
    if (restart !== 'on-failure' && restart !== 'always') return { result: 'failed', starts: starts.length };
    now += seconds(key('RestartSec', '0.1'));
  }
  return { result: 'still-restarting', starts: starts.length };
}

describe('node-bootstrap.service with the fetch in its start', () => {
  const input = inputFor('production', 'worker');
  const objectName = `bootstrap/worker.lzma.${BUNDLE_VERSION}`;

  async function boot(failFirst: number, served: Buffer, maxStarts: number) {
    const s3 = await fakeS3(failFirst, { [objectName]: served });
    const lib = mkdtempSync(join(tmpdir(), 'node-lib-'));
    dirs.push(lib);
    const config = parse(renderUserData(input)) as CloudConfig;
    const local = (path: string) => path.replace(/^\/opt\/node-bootstrap\//, `${lib}/`);
    for (const file of config.write_files.filter((f) => f.path.startsWith('/opt/node-bootstrap/'))) writeFileSync(local(file.path), file.content);
    const unitText = config.write_files.find((f) => f.path === '/etc/systemd/system/node-bootstrap.service')?.content ?? '';
    const bootstraps: string[] = [];
    // The bootstrap itself is tested elsewhere: here it only records that it ran, and with which script.
    const exec = (argv: string[]) => {
      if (argv.join(' ') !== '/bin/bash /opt/node-bootstrap/bootstrap.sh') return undefined;
      // bash's answer to a script that is not there.
      if (!existsSync(local(argv[1]))) return 127;
      bootstraps.push(readFileSync(local(argv[1]), 'utf8'));
      return 0;
    };
    const env = { PATH: process.env.PATH, AWS_ENDPOINT_URL: s3.endpoint, AWS_ACCESS_KEY_ID: 'AKIAFAKEBUNDLE', AWS_SECRET_ACCESS_KEY: 'fake-secret-key', AWS_SESSION_TOKEN: 'fake-session-token', FETCH_BUNDLE_BACKOFF_SCALE: '0.0001' };
    const outcome = systemdStart(unitText, local, env, exec, maxStarts);
    const requests = readFileSync(join(s3.root, 'requests.log'), 'utf8').trim().split('\n');
    return { ...outcome, bootstraps, requests, lib };
  }

  it('keeps re-fetching across restarts while S3 fails (longer than one run of the stub retries), then runs the bootstrap it unpacked', async () => {
    if (!requireTool('python3')) return;
    // 23 throttled GETs: the stub gives up twice (10 tries each), the third start fetches on its 4th try.
    const run = await boot(23, compressedBundle('worker'), 20);
    expect(run).toMatchObject({ result: 'active', starts: 3 });
    expect(run.requests).toHaveLength(24);
    expect(run.bootstraps).toEqual([`${stripComments(readFileSync(join(SCRIPTS_DIR, 'bootstrap.sh'), 'utf8')).replace(/\n+$/, '')}\n`]);
  });

  it('never runs a bundle whose SHA-256 is not the pinned one, however often it restarts', async () => {
    if (!requireTool('python3')) return;
    const run = await boot(0, compressedBundle('control-plane'), 6);
    expect(run).toMatchObject({ result: 'still-restarting', starts: 6 });
    expect(run.bootstraps).toEqual([]);
    expect(existsSync(join(run.lib, 'bundle.sh'))).toBe(false);
    expect(existsSync(join(run.lib, 'bootstrap.sh'))).toBe(false);
  });
});
