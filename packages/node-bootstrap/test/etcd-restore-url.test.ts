import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootstrapNames } from '@platform/platform-config';
import { callsOf, inputFor, platform, RESTORE_ROLE_ARN, restoreRoleRules, scratch, ssmStore, startFakeS3, storedParameter, requireTool, type Rule } from './harness';

/*
 * A restore end to end through a pre-signed URL: `etcd-restore.sh request` signs it with the
 * real AWS CLI as the restore role, the new control-plane node's `apply` downloads it with the
 * real curl from a fake S3 that checks the query-string SigV4, its expiry and whether the signer
 * may read snapshots (S3 reads, and KMS decrypts, with the signer's permission).
 */
const names = platform.namesOf('production');
const BUCKET = names.etcdBackupBucket;
const KEY = `${bootstrapNames(names).etcdSnapshotPrefix}/etcd-production-20250630T114500Z.tar.gz`;
const URL_PARAMETER = bootstrapNames(names).restoreUrl;
const NODE = { NODE_NAME: 'ip-10-20-1-20', NODE_IP: '10.20.1.20' };

const temporary = scratch();
/** The real tools, found before the fakes shadow them on PATH. */
const real = (tool: string) => spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();

/** The archive etcd-snapshot.sh writes, in the fake bucket. */
function seedSnapshot(root: string): void {
  const archive = temporary.dir('archive-');
  mkdirSync(join(archive, 'pki', 'etcd'), { recursive: true });
  for (const f of ['snapshot.db', 'pki/ca.crt', 'pki/ca.key', 'pki/sa.key', 'pki/etcd/ca.key']) writeFileSync(join(archive, f), `old ${f}`);
  mkdirSync(join(root, BUCKET, KEY, '..'), { recursive: true });
  expect(spawnSync('tar', ['-czf', join(root, BUCKET, KEY), '-C', archive, '.']).status).toBe(0);
}

/** The fake S3 holding the snapshot, and an empty Parameter Store; undefined (loudly) without the real tools. */
async function bucketWithSnapshot(): Promise<{ root: string; endpoint: string; ssm: string } | undefined> {
  if (!requireTool('aws') || !requireTool('curl') || !requireTool('python3')) return undefined;
  const root = temporary.dir('fake-s3-');
  seedSnapshot(root);
  return { root, endpoint: await startFakeS3(root), ssm: temporary.dir('ssm-') };
}

/** `aws s3 presign` and `curl` of the signed URL run for real, against the fake S3. */
const realPresign = (endpoint: string): Rule => ({ cmd: 'aws', args: 's3 presign s3://*', run: `AWS_ENDPOINT_URL=${endpoint} exec ${real('aws')} "$@"` });
const realCurl = (): Rule => ({ cmd: 'curl', args: '*X-Amz-Signature=*', run: `exec ${real('curl')} "$@"` });
const restoreDone = (): Rule => ({ cmd: 'etcdutl', args: 'snapshot restore *', run: 'mkdir -p "$5/member/snap"' });

/** A URL of KEY signed by the real AWS CLI with these credentials. */
function presign(endpoint: string, keyId: string, secret: string, seconds: number): string {
  const run = spawnSync(real('aws'), ['s3', 'presign', `s3://${BUCKET}/${KEY}`, '--region', 'ap-northeast-2', '--expires-in', String(seconds)], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: temporary.dir('home-'), AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: keyId, AWS_SECRET_ACCESS_KEY: secret, AWS_SESSION_TOKEN: 'session-token' },
  });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout.trim();
}

describe('etcd-restore.sh: the node downloads a snapshot only through the URL the restore role signed', () => {
  it('request signs with the restore role (real AWS CLI); apply on the new node downloads it (real curl, SigV4 checked), restores the CAs and etcd', async () => {
    const world = await bucketWithSnapshot();
    if (!world) return;
    const { root, endpoint, ssm } = world;
    const operator = temporary.node(inputFor('production', 'control-plane'), [realPresign(endpoint), ...restoreRoleRules(KEY), ...ssmStore(ssm)]);
    const requested = operator.run('etcd-restore.sh', ['request', 'latest'], { RESTORE_ROLE_ARN });
    expect(requested.status, requested.stderr).toBe(0);
    const url = storedParameter(ssm, URL_PARAMETER)!.value;
    expect(url).toMatch(new RegExp(`^${endpoint}/${BUCKET}/${KEY}\\?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAFAKERESTOREROLE%2F\\d{8}%2Fap-northeast-2%2Fs3%2Faws4_request&`));
    expect(url).toContain('&X-Amz-Expires=3600&');
    expect(storedParameter(ssm, bootstrapNames(names).restoreFrom)?.value).toBe(KEY);

    const node = temporary.node(inputFor('production', 'control-plane'), [realCurl(), restoreDone(), ...ssmStore(ssm)]);
    const applied = node.run('etcd-restore.sh', ['apply', KEY], NODE);
    expect(applied.status, applied.stderr).toBe(0);
    expect(readFileSync(join(node.kube, 'pki', 'sa.key'), 'utf8')).toBe('old pki/sa.key');
    expect(readFileSync(join(node.kube, 'pki', 'etcd', 'ca.key'), 'utf8')).toBe('old pki/etcd/ca.key');
    // The node made no S3 call of its own, and never logged the bearer URL.
    expect(callsOf(applied.calls, 'aws').filter((c) => !c.startsWith('aws ssm get-parameter'))).toEqual([]);
    expect(applied.stderr).not.toContain('X-Amz-Signature');
    expect(readFileSync(join(root, 'requests.log'), 'utf8').split('\n').filter((l) => l.startsWith('  -> '))).toEqual(['  -> OK']);
  });

  it('a URL the node role signs is refused (no s3:GetObject, no kms:Decrypt on snapshots), and so is an expired one: apply fails naming what to do', async () => {
    const world = await bucketWithSnapshot();
    if (!world) return;
    const { root, endpoint, ssm } = world;
    const node = temporary.node(inputFor('production', 'control-plane'), [realCurl(), restoreDone(), ...ssmStore(ssm)]);
    const store = (url: string) => node.run('../probe.sh', [url]);
    writeFileSync(join(node.root, 'probe.sh'), `aws ssm put-parameter --region ap-northeast-2 --name ${URL_PARAMETER} --value "$1" --type String --overwrite >/dev/null\n`);

    store(presign(endpoint, 'AKIAFAKEBUNDLE', 'fake-secret-key', 3600));
    const byNode = node.run('etcd-restore.sh', ['apply', KEY], NODE);
    expect(byNode.status).toBe(1);
    expect(byNode.stderr).toContain(`[download-snapshot] FAILED: download of ${KEY} through the signed URL failed`);
    expect(byNode.stderr).toContain('The requested URL returned error: 403');

    store(presign(endpoint, 'ASIAFAKERESTOREROLE', 'fake-restore-secret', 1));
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const expired = node.run('etcd-restore.sh', ['apply', KEY], NODE);
    expect(expired.status).toBe(1);
    expect(expired.stderr).toContain(`run etcd-restore.sh request ${KEY} again`);
    // What S3 answered each (retried) download: the node role may not read; the restore role's URL had expired.
    const answers = [...new Set(readFileSync(join(root, 'requests.log'), 'utf8').split('\n').filter((l) => l.startsWith('  -> ')))];
    expect(answers).toEqual(['  -> AccessDenied', '  -> AccessDenied: Request has expired']);
    // Nothing was restored from either.
    expect(node.exists(join(node.kube, 'pki', 'sa.key'))).toBe(false);
  });
});
