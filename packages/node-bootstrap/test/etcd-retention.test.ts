import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ETCD_SNAPSHOT_METRIC } from '@platform/platform-config';
import { snapshotSchedule } from '../src';
import { inputFor, platform, scratch, type Rule } from './harness';

const PREFIX = 'etcd-snapshots/production';
const stamp = (epoch: number) => new Date(epoch * 1000).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
const keyAt = (epoch: number) => `${PREFIX}/etcd-production-${stamp(epoch)}.tar.gz`;

/**
 * The snapshot bucket as the AWS CLI v2 shows it: `s3api put-object` puts an object, `s3api delete-object`
 * removes the current version, and `s3api list-objects-v2` lists keys in UTF-8 binary order, 1000
 * per ListObjectsV2 page. The CLI follows the pages itself, and with `--output text` it applies
 * `--query` to each page and prints one line per page (keys tab-separated; `None` for a page
 * without Contents).
 */
function bucketRules(dir: string): Rule[] {
  return [
    { cmd: 'aws', args: 's3api put-object *', run: `k=$8; cp "\${10}" "${dir}/\${k//\\//%}"` },
    { cmd: 'aws', args: 's3api delete-object *', run: `k=\${*: -1}; rm -f "${dir}/\${k//\\//%}"` },
    {
      cmd: 'aws',
      args: 's3api list-objects-v2 *',
      run: `p=$8; mapfile -t keys < <(ls "${dir}" | sed 's|%|/|g' | LC_ALL=C sort | grep -F "$p" | grep "^$p"); ((\${#keys[@]})) || { echo None; exit 0; }; for ((i = 0; i < \${#keys[@]}; i += 1000)); do (IFS=$'\\t'; echo "\${keys[*]:i:1000}"); done; exit 0`,
    },
  ];
}

const temporary = scratch();

function leader() {
  const bucket = temporary.dir('bucket-');
  const node = temporary.node(inputFor('production', 'control-plane'), [
    ...bucketRules(bucket),
    { cmd: 'etcdctl', args: '*endpoint status*', stdout: '[{"Status":{"header":{"member_id":7},"leader":7}}]\n' },
    { cmd: 'etcdctl', args: '*snapshot save *', touchLastArg: true },
  ]);
  mkdirSync(join(node.kube, 'pki', 'etcd'), { recursive: true });
  for (const f of ['ca.crt', 'ca.key', 'sa.key', 'sa.pub', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'etcd/ca.crt', 'etcd/ca.key']) writeFileSync(join(node.kube, 'pki', f), f);
  // load_env reads the env file after the environment: the textfile moves into the fake root there.
  const env = readFileSync(join(node.etc, 'env'), 'utf8');
  expect(env).toContain(`SNAPSHOT_METRIC_FILE='${ETCD_SNAPSHOT_METRIC.file}'\n`);
  writeFileSync(join(node.etc, 'env'), env.replace(ETCD_SNAPSHOT_METRIC.file, join(node.root, 'textfile', 'snapshot.prom')));
  const snapshotAt = (epoch: number) => node.run('etcd-snapshot.sh', [], { BOOTSTRAP_NOW_EPOCH: String(epoch) });
  const keys = () => readdirSync(bucket).map((f) => f.replace(/%/g, '/')).sort();
  const seed = (epochs: number[]) => epochs.forEach((e) => writeFileSync(join(bucket, keyAt(e).replace(/\//g, '%')), ''));
  return { snapshotAt, keys, seed };
}

describe('etcd-snapshot.sh retention against the bucket', () => {
  const schedule = snapshotSchedule(platform.cluster('production'));
  const interval = schedule.intervalMinutes * 60;
  const day = 86400;
  const resumed = Date.UTC(2025, 5, 30, 12) / 1000;

  it('keeps the newest snapshots when the leader comes back after more than the retention', () => {
    const { snapshotAt, keys, seed } = leader();
    // Snapshots that stopped 40 days ago: all older than the retention.
    const stopped = resumed - (schedule.retentionDays + 10) * day;
    const old = Array.from({ length: 12 }, (_, i) => stopped - i * interval);
    seed(old);
    const first = snapshotAt(resumed);
    expect(first.status, first.stderr).toBe(0);
    // The new snapshot and the two newest before it: the newest keepAtLeast, whatever their age.
    expect(keys()).toEqual([keyAt(old[1]), keyAt(old[0]), keyAt(resumed)]);
    expect(schedule.keepAtLeast).toBe(3);
    // Each later snapshot lets one more old one go, never going below keepAtLeast; snapshots
    // within the retention stay.
    for (let n = 1; n <= 3; n++) {
      const next = snapshotAt(resumed + n * interval);
      expect(next.status, next.stderr).toBe(0);
      expect(keys()).toHaveLength(n < 3 ? 3 : 4);
    }
    expect(keys()).toEqual([0, 1, 2, 3].map((n) => keyAt(resumed + n * interval)));
  });

  it('reads every listing page: the newest snapshots are on the last one', () => {
    const { snapshotAt, keys, seed } = leader();
    // 1000 snapshots within the retention after 4 beyond it: the listing's first page holds the
    // old ones, the second the newest. A script reading one page would keep or delete the wrong ones.
    const recent = Array.from({ length: 1000 }, (_, i) => resumed - (i + 1) * interval);
    const beyond = [31, 32, 33, 34].map((d) => resumed - d * day);
    seed([...recent, ...beyond]);
    const result = snapshotAt(resumed);
    expect(result.status, result.stderr).toBe(0);
    expect(keys()).toEqual([...recent.reverse(), resumed].map(keyAt));
  }, 30_000);

  it('deletes only what is older than the retention while snapshots run', () => {
    const { snapshotAt, keys, seed } = leader();
    const within = [1, 2, 5].map((d) => resumed - d * day);
    const beyond = [31, 40].map((d) => resumed - d * day);
    seed([...within, ...beyond]);
    expect(snapshotAt(resumed).status).toBe(0);
    expect(keys()).toEqual([...within.reverse(), resumed].map(keyAt));
  });
});
