import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compressedBundle, scriptBundle, SCRIPTS_DIR } from '../src/private/script-bundle';
import { requireTool } from './harness';

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

const servers: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  servers.splice(0).forEach((s) => s.kill());
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

async function fakeS3(failFirst = 0): Promise<{ root: string; endpoint: string }> {
  const root = mkdtempSync(join(tmpdir(), 'fake-s3-'));
  dirs.push(root);
  mkdirSync(join(root, BUCKET, 'bootstrap'), { recursive: true });
  writeFileSync(join(root, BUCKET, `${KEY}.${VERSION}`), bundle);
  const server = spawn('python3', [join(__dirname, 'fake-s3-server.py'), root, 'ap-northeast-2', String(failFirst)]);
  servers.push(server);
  const port = await new Promise<string>((resolve, reject) => {
    server.stdout?.once('data', (d: Buffer) => resolve(d.toString().trim()));
    server.once('exit', (code) => reject(new Error(`fake S3 exited ${code}`)));
  });
  return { root, endpoint: `http://127.0.0.1:${port}` };
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
