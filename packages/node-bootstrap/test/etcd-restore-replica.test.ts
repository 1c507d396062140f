import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { callsOf, FakeNode, inputFor, platform, type Rule } from './harness';

/** Region loss: the snapshot lives in the replica (another region); nodes read their own region's bucket. */
const names = platform.namesOf('production');
const REPLICA = names.etcdBackupReplicaBucket!;
const REPLICA_REGION = platform.cluster('production').backups.replicaRegion!;
const BUCKET = names.etcdBackupBucket;
const PREFIX = 'etcd-snapshots/production';
const env = { REPLICA_BUCKET: REPLICA, REPLICA_REGION };

const nodes: FakeNode[] = [];
function operator(rules: Rule[]) {
  const n = new FakeNode(inputFor('production', 'control-plane'), rules);
  nodes.push(n);
  return n;
}
afterEach(() => nodes.splice(0).forEach((n) => rmSync(n.root, { recursive: true, force: true })));

describe('etcd-restore.sh copy-back', () => {
  it('lists the replica in its own region, copies the newest back re-encrypted with the cluster key, then checks it is there', () => {
    const listing = ['20250630T000000Z', '20250630T114500Z'].map((s) => `${PREFIX}/etcd-production-${s}.tar.gz`).join('\t');
    const n = operator([{ cmd: 'aws', args: `s3api list-objects-v2 --region ${REPLICA_REGION} --bucket ${REPLICA} *`, stdout: `${listing}\n` }]);
    const result = n.run('etcd-restore.sh', ['copy-back', 'latest'], env);
    expect(result.status, result.stderr).toBe(0);
    const newest = `${PREFIX}/etcd-production-20250630T114500Z.tar.gz`;
    expect(callsOf(result.calls, 'aws')).toEqual([
      `aws s3api list-objects-v2 --region ${REPLICA_REGION} --bucket ${REPLICA} --prefix ${PREFIX}/etcd-production- --query Contents[].Key --output text`,
      `aws s3 cp s3://${REPLICA}/${newest} s3://${BUCKET}/${newest} --source-region ${REPLICA_REGION} --region ap-northeast-2 --sse aws:kms --sse-kms-key-id alias/production-cluster --only-show-errors`,
      `aws s3api head-object --region ap-northeast-2 --bucket ${BUCKET} --key ${newest}`,
    ]);
    // The key to pass to `request` next.
    expect(result.stdout.trim().split('\n').at(-1)).toBe(newest);
    expect(result.calls.some((c) => c.includes('ssm '))).toBe(false);
  });

  it('names the missing replica settings before any call', () => {
    const result = operator([]).run('etcd-restore.sh', ['copy-back', 'latest']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('REPLICA_BUCKET is not set: names.etcdBackupReplicaBucket and backups.replicaRegion');
    expect(callsOf(result.calls, 'aws')).toEqual([]);
  });

  it('fails naming both buckets when the copy fails (e.g. the primary region is still down)', () => {
    const key = `${PREFIX}/etcd-production-20250630T114500Z.tar.gz`;
    const result = operator([{ cmd: 'aws', args: 's3 cp *', exit: 1 }]).run('etcd-restore.sh', ['copy-back', key], env);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`[copy-back] FAILED: copying ${key} from s3://${REPLICA} (${REPLICA_REGION}) to s3://${BUCKET} (ap-northeast-2) failed`);
  });
});
