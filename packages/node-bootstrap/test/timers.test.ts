import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ETCD_SNAPSHOT_METRIC } from '@platform/platform-config';
import { awsError, callsOf, FakeNode, inputFor, parameterNotFound, RESTORE_ROLE_ARN, restoreRoleRules, ssmStore, storedParameter, type Rule } from './harness';

const REGION = '--region ap-northeast-2';
const BUCKET = 'hakube-production-etcd-backups-ap-northeast-2';
const PREFIX = 'etcd-snapshots/production';
const KEY = 'b'.repeat(64);
// BOOTSTRAP_NOW_EPOCH in the harness: 2025-06-30T12:00:00Z.

const nodes: FakeNode[] = [];
function node(role: 'control-plane' | 'worker', rules: Rule[], cluster = 'production') {
  // No restore requested unless a test says so: SSM answers ParameterNotFound for a name never written.
  const n = new FakeNode(inputFor(cluster, role), [...rules, parameterNotFound(`/hakube/${cluster}/kubeadm/restore-from`)]);
  nodes.push(n);
  return n;
}
afterEach(() => nodes.splice(0).forEach((n) => rmSync(n.root, { recursive: true, force: true })));

describe('join-material.sh refresh (timer)', () => {
  const LOCK = '/hakube/production/kubeadm/join-refresh-lock';
  const NOW = Date.UTC(2025, 5, 30, 12) / 1000;
  const ours = `i-new ${NOW + 300}`;
  const published: Rule[] = [
    { cmd: 'kubeadm', args: 'certs certificate-key', stdout: `${KEY}\n` },
    { cmd: 'kubeadm', args: 'token create *', stdout: 'kubeadm join x:6443 --token zyxwvu.0123456789abcdef --discovery-token-ca-cert-hash sha256:c0ffee\n' },
  ];
  const lastModified = (iso: string, times?: number): Rule => ({ cmd: 'aws', args: 'ssm get-parameter * --query Parameter.LastModifiedDate *', stdout: `${iso}\n`, times });
  const lockHeldAs = (value: string): Rule[] => [
    awsError(`ssm put-parameter * --name ${LOCK} --value * --type String`, 'ParameterAlreadyExists'),
    { cmd: 'aws', args: `ssm get-parameter * --name ${LOCK} *`, stdout: `${value}\n` },
  ];
  const withAdmin = (n: FakeNode) => (writeFileSync(join(n.kube, 'admin.conf'), ''), n);
  const put = (name: string, value: string) =>
    `aws ssm put-parameter ${REGION} --name /hakube/production/kubeadm/${name} --value ${value} --type SecureString --key-id alias/production-cluster --tier Standard --overwrite`;
  const ageCheck = `aws ssm get-parameter ${REGION} --name /hakube/production/kubeadm/certificate-key --query Parameter.LastModifiedDate --output text`;
  const publishCalls = [
    // No publish while a restore is requested (absent: none).
    `aws ssm get-parameter ${REGION} --name /hakube/production/kubeadm/restore-from --with-decryption --query Parameter.Value --output text`,
    // service-account-issuer.sh check-signing-key: the rotation state (absent: steady).
    `aws ssm get-parameter ${REGION} --name /hakube/production/service-account/rotation --with-decryption --query Parameter.Value --output text`,
    'kubeadm certs certificate-key',
    `kubeadm init phase upload-certs --upload-certs --certificate-key ${KEY}`,
    'kubeadm token create --ttl 14400s --print-join-command',
    // The token last: a waiter that sees a published token finds the rest in place.
    put('certificate-key', KEY),
    put('ca-cert-hash', 'sha256:c0ffee'),
    put('join-token', 'zyxwvu.0123456789abcdef'),
  ];

  it('leaves material younger than the refresh age alone', () => {
    const n = withAdmin(node('control-plane', [lastModified('2025-06-30T11:30:00.000000+00:00'), ...published]));
    const result = n.run('join-material.sh', ['refresh']);
    expect(result.status, result.stderr).toBe(0);
    expect(callsOf(result.calls, 'aws', 'kubeadm')).toEqual([ageCheck]);
    expect(result.stderr).toContain('join material is 1800s old (refresh after 3600s): nothing to do');
  });

  it('under the refresh lock, uploads a new certificate key, creates a token, stores all three encrypted, then releases the lock', () => {
    const n = withAdmin(node('control-plane', [lastModified('2025-06-30T10:45:00.000000+00:00'), { cmd: 'aws', args: `ssm get-parameter * --name ${LOCK} *`, stdout: `${ours}\n` }, ...published]));
    const result = n.run('join-material.sh', ['refresh']);
    expect(result.status, result.stderr).toBe(0);
    expect(callsOf(result.calls, 'aws', 'kubeadm', 'sleep')).toEqual([
      ageCheck,
      // Create-only: exactly one node holds it.
      `aws ssm put-parameter ${REGION} --name ${LOCK} --value ${ours} --type String`,
      ageCheck,
      ...publishCalls,
      `aws ssm get-parameter ${REGION} --name ${LOCK} --with-decryption --query Parameter.Value --output text`,
      `aws ssm delete-parameter ${REGION} --name ${LOCK}`,
    ]);
  });

  it('skips while another node holds an unexpired refresh lock', () => {
    const n = withAdmin(node('control-plane', [lastModified('2025-06-30T10:45:00.000000+00:00'), ...lockHeldAs(`i-other ${NOW + 120}`), ...published]));
    const result = n.run('join-material.sh', ['refresh']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain(`join material refresh held by i-other until ${NOW + 120}`);
    expect(callsOf(result.calls, 'kubeadm')).toEqual([]);
    expect(result.calls.filter((c) => c.includes('--type SecureString') || c.includes('delete-parameter'))).toEqual([]);
  });

  it('breaks an expired lock (its holder died mid-refresh) with a create-only break parameter, once', () => {
    const stale = `i-dead ${NOW - 10}`;
    const n = withAdmin(node('control-plane', [lastModified('2025-06-30T10:45:00.000000+00:00'), ...lockHeldAs(stale), ...published]));
    const result = n.run('join-material.sh', ['refresh']);
    expect(result.status, result.stderr).toBe(0);
    expect(callsOf(result.calls, 'aws', 'kubeadm').slice(0, 6)).toEqual([
      ageCheck,
      `aws ssm put-parameter ${REGION} --name ${LOCK} --value ${ours} --type String`,
      `aws ssm get-parameter ${REGION} --name ${LOCK} --with-decryption --query Parameter.Value --output text`,
      `aws ssm put-parameter ${REGION} --name ${LOCK}/break-i-dead_${NOW - 10} --value i-new --type String`,
      `aws ssm put-parameter ${REGION} --name ${LOCK} --value ${ours} --type String --overwrite`,
      ageCheck,
    ]);
    expect(result.calls).toContain(put('certificate-key', KEY));
  });

  it('leaves an expired lock to the node that already broke it', () => {
    const n = withAdmin(node('control-plane', [
      lastModified('2025-06-30T10:45:00.000000+00:00'),
      awsError(`ssm put-parameter * --name ${LOCK}/break-* --value i-new --type String`, 'ParameterAlreadyExists'),
      ...lockHeldAs(`i-dead ${NOW - 10}`),
      ...published,
    ]));
    const result = n.run('join-material.sh', ['refresh']);
    expect(result.status, result.stderr).toBe(0);
    expect(callsOf(result.calls, 'kubeadm')).toEqual([]);
    expect(result.calls.some((c) => c.includes('--overwrite'))).toBe(false);
  });

  it('does nothing when another node refreshed while this one waited for the lock', () => {
    const n = withAdmin(node('control-plane', [
      lastModified('2025-06-30T10:45:00.000000+00:00', 1),
      lastModified('2025-06-30T11:59:00.000000+00:00'),
      { cmd: 'aws', args: `ssm get-parameter * --name ${LOCK} *`, stdout: `${ours}\n` },
      ...published,
    ]));
    const result = n.run('join-material.sh', ['refresh']);
    expect(result.status, result.stderr).toBe(0);
    expect(callsOf(result.calls, 'kubeadm')).toEqual([]);
    expect(result.calls).toContain(`aws ssm delete-parameter ${REGION} --name ${LOCK}`);
  });

  it('publish (the initialiser) waits for the lock instead of skipping', () => {
    const n = withAdmin(node('control-plane', [
      awsError(`ssm put-parameter * --name ${LOCK} --value * --type String`, 'ParameterAlreadyExists', 2),
      { cmd: 'aws', args: `ssm get-parameter * --name ${LOCK} *`, stdout: `i-other ${NOW + 60}\n`, times: 2 },
      { cmd: 'aws', args: `ssm get-parameter * --name ${LOCK} *`, stdout: `${ours}\n` },
      ...published,
    ]));
    const result = n.run('join-material.sh', ['publish']);
    expect(result.status, result.stderr).toBe(0);
    const getLock = `aws ssm get-parameter ${REGION} --name ${LOCK} --with-decryption --query Parameter.Value --output text`;
    const take = `aws ssm put-parameter ${REGION} --name ${LOCK} --value ${ours} --type String`;
    expect(callsOf(result.calls, 'aws', 'kubeadm', 'sleep')).toEqual([take, getLock, 'sleep 10', take, getLock, 'sleep 10', take, ...publishCalls, getLock, `aws ssm delete-parameter ${REGION} --name ${LOCK}`]);
  });

  it('two nodes refreshing at the same moment: one uploads and publishes, and SSM holds the key of the certificates uploaded last', async () => {
    // One SSM and one kubeadm-certs Secret shared by both nodes, with SSM's create-only semantics.
    const shared = mkdtempSync(join(tmpdir(), 'shared-ssm-'));
    const ssm: Rule[] = [
      { cmd: 'aws', args: `ssm put-parameter * --name ${LOCK} --value * --type String`, run: `mkdir "${shared}/lock.d" 2>/dev/null || { echo "An error occurred (ParameterAlreadyExists)" >&2; exit 254; }; printf '%s' "$8" >"${shared}/lock"` },
      { cmd: 'aws', args: `ssm get-parameter * --name ${LOCK} *`, run: `[[ -f "${shared}/lock" ]] || { echo "An error occurred (ParameterNotFound)" >&2; exit 254; }; cat "${shared}/lock"` },
      { cmd: 'aws', args: `ssm delete-parameter * --name ${LOCK}`, run: `rm -rf "${shared}/lock" "${shared}/lock.d"` },
      { cmd: 'aws', args: 'ssm get-parameter * --query Parameter.LastModifiedDate *', run: `cat "${shared}/modified" 2>/dev/null || echo 2025-06-30T10:45:00.000000+00:00` },
      { cmd: 'aws', args: 'ssm put-parameter * --name /hakube/production/kubeadm/certificate-key *', run: `printf '%s' "$8" >"${shared}/ssm-key"; echo 2025-06-30T12:00:00.000000+00:00 >"${shared}/modified"` },
      // Slow upload: without the lock the two nodes' uploads and writes would overlap.
      { cmd: 'kubeadm', args: 'init phase upload-certs *', run: `printf '%s' "$6" >"${shared}/uploaded"; /bin/sleep 0.5` },
      published[1],
    ];
    const twoNodes = ['i-a', 'i-b'].map((id) =>
      withAdmin(node('control-plane', [{ cmd: 'curl', args: '*meta-data/instance-id', stdout: id }, { cmd: 'kubeadm', args: 'certs certificate-key', stdout: `${id === 'i-a' ? 'a' : 'b'}${KEY.slice(1)}\n` }, ...ssm])),
    );
    try {
      const results = await Promise.all(twoNodes.map((n) => n.runAsync('join-material.sh', ['refresh'])));
      for (const r of results) expect(r.status, r.stderr).toBe(0);
      const uploads = results.flatMap((r) => r.calls.filter((c) => c.startsWith('kubeadm init phase upload-certs')));
      expect(uploads).toHaveLength(1);
      expect(readFileSync(join(shared, 'ssm-key'), 'utf8')).toBe(readFileSync(join(shared, 'uploaded'), 'utf8'));
      expect(existsSync(join(shared, 'lock'))).toBe(false);
    } finally {
      rmSync(shared, { recursive: true, force: true });
    }
  });

  it('publishes when nothing was ever published', () => {
    const n = withAdmin(node('control-plane', [parameterNotFound('*'), ...published]));
    const result = n.run('join-material.sh', ['refresh']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.calls).toContain('kubeadm token create --ttl 14400s --print-join-command');
  });

  it('fails instead of publishing blindly when the age of the material cannot be read', () => {
    const n = withAdmin(node('control-plane', [awsError('ssm get-parameter * --query Parameter.LastModifiedDate *', 'AccessDeniedException'), ...published]));
    const result = n.run('join-material.sh', ['refresh']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('[check-age] FAILED: cannot read the age of /hakube/production/kubeadm/certificate-key: An error occurred (AccessDeniedException)');
    expect(callsOf(result.calls, 'kubeadm')).toEqual([]);
  });

  it('fails naming the step when kubeadm prints no usable token, and releases the lock', () => {
    const n = withAdmin(node('control-plane', [
      parameterNotFound('/hakube/production/kubeadm/certificate-key'),
      { cmd: 'aws', args: `ssm get-parameter * --name ${LOCK} *`, stdout: `${ours}\n` },
      published[0],
      { cmd: 'kubeadm', args: 'token create *', stdout: 'kubeadm join api:6443 --token Not-A-Token.secret --discovery-token-ca-cert-hash sha256:feed\n' },
    ]));
    const result = n.run('join-material.sh', ['refresh']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('[create-token] FAILED: kubeadm token create printed no token of the form [a-z0-9]{6}.[a-z0-9]{16}');
    // Even a malformed token is a secret: it stays out of the journal.
    expect(`${result.stdout}${result.stderr}`).not.toContain('Not-A-Token.secret');
    expect(result.calls.some((c) => c.includes('--type SecureString'))).toBe(false);
    expect(result.calls[result.calls.length - 1]).toBe(`aws ssm delete-parameter ${REGION} --name ${LOCK}`);
  });
});

describe('etcd-snapshot.sh (timer)', () => {
  const status = (member: string, leader: string) =>
    `[{"Endpoint":"https://127.0.0.1:2379","Status":{"header":{"cluster_id":1,"member_id":${member},"revision":9},"version":"3.6.5","leader":${leader},"raftTerm":4}}]\n`;
  // The env file names the real textfile path (platform-config); the test moves it into the fake root.
  const metricFile = (n: FakeNode) => join(n.root, 'textfile', 'etcd_snapshot.prom');
  const pki = (n: FakeNode) => {
    mkdirSync(join(n.kube, 'pki', 'etcd'), { recursive: true });
    for (const f of ['ca.crt', 'ca.key', 'sa.key', 'sa.pub', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'etcd/ca.crt', 'etcd/ca.key']) writeFileSync(join(n.kube, 'pki', f), f);
    const env = readFileSync(join(n.etc, 'env'), 'utf8');
    expect(env).toContain(`SNAPSHOT_METRIC='${ETCD_SNAPSHOT_METRIC.name}'\n`);
    expect(env).toContain(`SNAPSHOT_METRIC_FILE='${ETCD_SNAPSHOT_METRIC.file}'\n`);
    writeFileSync(join(n.etc, 'env'), env.replace(`SNAPSHOT_METRIC_FILE='${ETCD_SNAPSHOT_METRIC.file}'`, `SNAPSHOT_METRIC_FILE='${metricFile(n)}'`));
    return n;
  };

  it('does nothing on a follower', () => {
    const n = node('control-plane', [{ cmd: 'etcdctl', args: '*endpoint status*', stdout: status('111', '222') }]);
    const result = n.run('etcd-snapshot.sh');
    expect(result.status, result.stderr).toBe(0);
    expect(callsOf(result.calls, 'aws', 'etcdctl')).toEqual(['etcdctl --endpoints=https://127.0.0.1:2379 endpoint status -w json']);
    expect(result.stderr).not.toContain('record-success');
  });

  it('after the upload records its time for node-exporter (atomically, readable by its user), before retention', () => {
    const n = pki(
      node('control-plane', [
        { cmd: 'etcdctl', args: '*endpoint status*', stdout: status('111', '111') },
        { cmd: 'etcdctl', args: '*snapshot save *', touchLastArg: true },
        // While the upload runs the file still holds the previous success: it is written only after.
        { cmd: 'aws', args: 's3api put-object *', run: `grep -qx '${ETCD_SNAPSHOT_METRIC.name} 1' "$FAKE_DIR/../textfile/etcd_snapshot.prom" || exit 9` },
        { cmd: 'aws', args: 's3api list-objects-v2 *', stdout: '\n' },
      ]),
    );
    mkdirSync(join(n.root, 'textfile'));
    writeFileSync(metricFile(n), `${ETCD_SNAPSHOT_METRIC.name} 1\n`);
    const result = n.run('etcd-snapshot.sh');
    expect(result.status, result.stderr).toBe(0);
    const epoch = Date.UTC(2025, 5, 30, 12) / 1000;
    expect(readFileSync(metricFile(n), 'utf8')).toBe(
      `# HELP ${ETCD_SNAPSHOT_METRIC.name} Time of the last etcd snapshot this node uploaded.\n# TYPE ${ETCD_SNAPSHOT_METRIC.name} gauge\n${ETCD_SNAPSHOT_METRIC.name} ${epoch}\n`,
    );
    expect(statSync(metricFile(n)).mode & 0o777).toBe(0o644);
    // Only the final file is left: the temp file was renamed, not copied.
    expect(readdirSync(join(n.root, 'textfile'))).toEqual(['etcd_snapshot.prom']);
    expect(result.stderr.indexOf('[record-success]')).toBeLessThan(result.stderr.indexOf('[retention]'));
    expect(result.stderr.indexOf('[upload]')).toBeLessThan(result.stderr.indexOf('[record-success]'));
  });

  it('creates the textfile directory when it is missing', () => {
    const n = pki(
      node('control-plane', [
        { cmd: 'etcdctl', args: '*endpoint status*', stdout: status('111', '111') },
        { cmd: 'etcdctl', args: '*snapshot save *', touchLastArg: true },
        { cmd: 'aws', args: 's3api list-objects-v2 *', stdout: '\n' },
      ]),
    );
    const result = n.run('etcd-snapshot.sh');
    expect(result.status, result.stderr).toBe(0);
    expect(readFileSync(metricFile(n), 'utf8')).toMatch(new RegExp(`^${ETCD_SNAPSHOT_METRIC.name} \\d+$`, 'm'));
  });

  it('on the leader stores a time-named, KMS-encrypted archive and applies retention, keeping the newest', () => {
    const old = (stamp: string) => `${PREFIX}/etcd-production-${stamp}.tar.gz`;
    const listing = [old('20250530T114500Z'), old('20250531T120000Z'), old('20250601T000000Z'), old('20250630T114500Z'), `${PREFIX}/notes.txt`].join('\t');
    const n = pki(
      node('control-plane', [
        { cmd: 'etcdctl', args: '*endpoint status*', stdout: status('111', '111') },
        { cmd: 'etcdctl', args: '*snapshot save *', touchLastArg: true },
        { cmd: 'aws', args: 's3api put-object *', run: 'cp "${10}" "$FAKE_DIR/uploaded.tar.gz"' },
        { cmd: 'aws', args: 's3api list-objects-v2 *', stdout: `${listing}\n` },
      ]),
    );
    const result = n.run('etcd-snapshot.sh');
    expect(result.status, result.stderr).toBe(0);
    // Exactly what etcd-restore.sh apply needs: the snapshot and the CA and service-account keys.
    const listed = spawnSync('tar', ['-tzf', join(n.fakeDir, 'uploaded.tar.gz')], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    expect(listed.sort()).toEqual(
      ['pki/ca.crt', 'pki/ca.key', 'pki/etcd/ca.crt', 'pki/etcd/ca.key', 'pki/front-proxy-ca.crt', 'pki/front-proxy-ca.key', 'pki/sa.key', 'pki/sa.pub', 'snapshot.db'],
    );
    const calls = callsOf(result.calls, 'aws', 'etcdctl');
    expect(calls[1]).toMatch(/^etcdctl --endpoints=https:\/\/127\.0\.0\.1:2379 snapshot save \/.+\/snapshot\.db$/);
    expect(calls[2]).toMatch(
      new RegExp(`^aws s3api put-object ${REGION} --bucket ${BUCKET} --key ${PREFIX}/etcd-production-20250630T120000Z\\.tar\\.gz --body /\\S+/etcd-production-20250630T120000Z\\.tar\\.gz --server-side-encryption aws:kms --ssekms-key-id alias/production-cluster$`),
    );
    // 30 days retention from 2025-06-30T12:00Z: the cutoff is 2025-05-31T12:00Z. The
    // fake listing does not include the new archive, so the three newest listed are kept.
    expect(calls.slice(3)).toEqual([
      `aws s3api list-objects-v2 ${REGION} --bucket ${BUCKET} --prefix ${PREFIX}/etcd-production- --query Contents[].Key --output text`,
      `aws s3api delete-object ${REGION} --bucket ${BUCKET} --key ${old('20250530T114500Z')}`,
    ]);
  });

  it('keeps old snapshots when there are no newer ones (a stopped timer never empties the bucket)', () => {
    const listing = ['20250101T000000Z', '20250102T000000Z'].map((s) => `${PREFIX}/etcd-production-${s}.tar.gz`).join('\t');
    const n = pki(
      node('control-plane', [
        { cmd: 'etcdctl', args: '*endpoint status*', stdout: status('7', '7') },
        { cmd: 'etcdctl', args: '*snapshot save *', touchLastArg: true },
        { cmd: 'aws', args: 's3api list-objects-v2 *', stdout: `${listing}\n` },
      ]),
    );
    const result = n.run('etcd-snapshot.sh');
    expect(result.status, result.stderr).toBe(0);
    expect(result.calls.some((c) => c.includes('delete-object'))).toBe(false);
  });

  it('fails naming the upload when S3 refuses it', () => {
    const n = pki(
      node('control-plane', [
        { cmd: 'etcdctl', args: '*endpoint status*', stdout: status('7', '7') },
        { cmd: 'etcdctl', args: '*snapshot save *', touchLastArg: true },
        { cmd: 'aws', args: 's3api put-object *', exit: 1 },
      ]),
    );
    mkdirSync(join(n.root, 'textfile'));
    writeFileSync(metricFile(n), `${ETCD_SNAPSHOT_METRIC.name} 1751280000\n`);
    const result = n.run('etcd-snapshot.sh');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`[upload] FAILED: upload of etcd-production-20250630T120000Z.tar.gz to s3://${BUCKET}/${PREFIX} failed`);
    // The last success stays what it was: the alert sees it age.
    expect(readFileSync(metricFile(n), 'utf8')).toBe(`${ETCD_SNAPSHOT_METRIC.name} 1751280000\n`);
  });
});

describe('etcd-restore.sh', () => {
  const operatorEnv = { RESTORE_ROLE_ARN };
  const URL_PARAMETER = '/hakube/production/kubeadm/restore-url';

  it('request latest signs a download URL as the restore role, stores it and then the key, deletes the old join material (token first) and releases the init lock', () => {
    const listing = ['20250629T000000Z', '20250630T114500Z', '20250630T000000Z'].map((s) => `${PREFIX}/etcd-production-${s}.tar.gz`).join('\t');
    const store = mkdtempSync(join(tmpdir(), 'ssm-'));
    const n = node('control-plane', [...restoreRoleRules(listing), ...ssmStore(store)]);
    const result = n.run('etcd-restore.sh', ['request', 'latest'], operatorEnv);
    expect(result.status, result.stderr).toBe(0);
    const newest = `${PREFIX}/etcd-production-20250630T114500Z.tar.gz`;
    expect(callsOf(result.calls, 'aws')).toEqual([
      `aws sts assume-role ${REGION} --role-arn ${RESTORE_ROLE_ARN} --role-session-name etcd-restore-production --duration-seconds 3600 --query Credentials.[AccessKeyId,SecretAccessKey,SessionToken] --output text`,
      `aws s3api list-objects-v2 ${REGION} --bucket ${BUCKET} --prefix ${PREFIX}/etcd-production- --query Contents[].Key --output text`,
      `aws s3api head-object ${REGION} --bucket ${BUCKET} --key ${newest}`,
      `aws s3 presign s3://${BUCKET}/${newest} ${REGION} --expires-in 3600`,
      // The URL from a file: never on a command line (ps) or in a log.
      expect.stringMatching(new RegExp(`^aws ssm put-parameter ${REGION} --name ${URL_PARAMETER} --value file:///\\S+ --type String --overwrite$`)),
      `aws ssm put-parameter ${REGION} --name /hakube/production/kubeadm/restore-from --value ${newest} --type String --overwrite`,
      // Absent is "not published": joiners wait for the restored cluster's initialiser.
      ...['join-token', 'ca-cert-hash', 'certificate-key'].map((name) => `aws ssm delete-parameter ${REGION} --name /hakube/production/kubeadm/${name}`),
      `aws ssm delete-parameter ${REGION} --name /hakube/production/kubeadm/init-lock`,
    ]);
    const url = storedParameter(store, URL_PARAMETER);
    expect(url?.type).toBe('String');
    expect(url?.value).toBe(`https://${BUCKET}.s3.ap-northeast-2.amazonaws.com/${newest}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAFAKERESTOREROLE%2F20250630%2Fap-northeast-2%2Fs3%2Faws4_request&X-Amz-Expires=3600&X-Amz-Security-Token=t&X-Amz-Signature=abc`);
    expect(result.stderr).not.toContain('X-Amz-Signature');
    expect(result.calls.some((c) => c.includes('delete-parameters'))).toBe(false);
    rmSync(store, { recursive: true, force: true });
  });

  it('request cannot read snapshots without the restore role: no role named, or one it may not assume, stops before any write', () => {
    const unset = node('control-plane', restoreRoleRules(`${PREFIX}/etcd-production-20250630T114500Z.tar.gz`));
    const noRole = unset.run('etcd-restore.sh', ['request', 'latest']);
    expect(noRole.status).toBe(1);
    expect(noRole.stderr).toContain("RESTORE_ROLE_ARN is not set: the ARN of names.etcdRestoreRole, the cluster stack's output etcd_restore_role_arn");
    expect(callsOf(noRole.calls, 'aws')).toEqual([]);
    const other = unset.run('etcd-restore.sh', ['request', 'latest'], { RESTORE_ROLE_ARN: 'arn:aws:iam::123456789012:role/production-control-plane' });
    expect(other.status).toBe(1);
    expect(other.stderr).toContain('[assume-restore-role] FAILED: cannot assume arn:aws:iam::123456789012:role/production-control-plane');
    expect(other.calls.some((c) => c.includes(' ssm '))).toBe(false);
    const long = unset.run('etcd-restore.sh', ['request', 'latest'], { ...operatorEnv, RESTORE_URL_SECONDS: '7200' });
    expect(long.status).toBe(1);
    expect(long.stderr).toContain('RESTORE_URL_SECONDS=7200; expected 900 to 3600 seconds');
  });

  it('request succeeds when the join material and the init lock are already gone, and fails naming what it could not delete on any other error', () => {
    const listing = `${PREFIX}/etcd-production-20250630T114500Z.tar.gz`;
    const store = mkdtempSync(join(tmpdir(), 'ssm-'));
    const gone = node('control-plane', [...restoreRoleRules(listing), ...ssmStore(store)]);
    const ok = gone.run('etcd-restore.sh', ['request', 'latest'], operatorEnv);
    expect(ok.status, ok.stderr).toBe(0);
    expect(storedParameter(store, '/hakube/production/kubeadm/restore-from')).toMatchObject({ value: listing, type: 'String', version: 1 });
    rmSync(store, { recursive: true, force: true });
    const lockDenied = node('control-plane', [...restoreRoleRules(listing), awsError('ssm delete-parameter * --name /hakube/production/kubeadm/init-lock', 'AccessDeniedException')]);
    const failed = lockDenied.run('etcd-restore.sh', ['request', 'latest'], operatorEnv);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain('[release-init-lock] FAILED: deleting the init lock /hakube/production/kubeadm/init-lock failed: An error occurred (AccessDeniedException)');
    const tokenDenied = node('control-plane', [...restoreRoleRules(listing), awsError('ssm delete-parameter * --name /hakube/production/kubeadm/join-token', 'AccessDeniedException')]);
    const kept = tokenDenied.run('etcd-restore.sh', ['request', 'latest'], operatorEnv);
    expect(kept.status).toBe(1);
    expect(kept.stderr).toContain('[remove-join-material] FAILED: deleting /hakube/production/kubeadm/join-token failed: An error occurred (AccessDeniedException)');
    // The init lock stays: no node may initialise while the old token is still published.
    expect(kept.calls.some((c) => c.includes('init-lock'))).toBe(false);
  });

  /** A node whose restore request holds a URL of `key`; curl answers with `archive` (a file under the fake dir) or fails. */
  const applying = (key: string, curl: Rule) =>
    node('control-plane', [{ cmd: 'aws', args: `ssm get-parameter * --name ${URL_PARAMETER} *`, stdout: `https://${BUCKET}.s3.ap-northeast-2.amazonaws.com/${key}?X-Amz-Signature=abc\n` }, curl]);

  it('apply refuses an archive without the CA keys', () => {
    const n = applying(`${PREFIX}/x.tar.gz`, { cmd: 'curl', args: '*X-Amz-Signature=*', run: 'cp "$FAKE_DIR/archive.tar.gz" "$3"' });
    writeFileSync(join(n.root, 'snapshot.db'), 'db');
    expect(spawnSync('tar', ['-czf', join(n.fakeDir, 'archive.tar.gz'), '-C', n.root, 'snapshot.db']).status).toBe(0);
    const result = n.run('etcd-restore.sh', ['apply', `${PREFIX}/x.tar.gz`], { NODE_NAME: 'n', NODE_IP: '10.0.0.1' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`[download-snapshot] FAILED: ${PREFIX}/x.tar.gz lacks snapshot.db or the CA keys`);
    expect(result.calls.some((c) => c.startsWith('etcdutl'))).toBe(false);
  });

  it('apply refuses what is not an archive', () => {
    const n = applying(`${PREFIX}/x.tar.gz`, { cmd: 'curl', args: '*X-Amz-Signature=*', run: 'echo "<Error>not a tarball</Error>" >"$3"' });
    const result = n.run('etcd-restore.sh', ['apply', `${PREFIX}/x.tar.gz`], { NODE_NAME: 'n', NODE_IP: '10.0.0.1' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`[download-snapshot] FAILED: ${PREFIX}/x.tar.gz is not a readable archive`);
  });

  it('apply never reads the bucket with the node role: without a signed URL, or with one of another snapshot, it stops and says to request again', () => {
    const key = `${PREFIX}/etcd-production-20250630T114500Z.tar.gz`;
    const missing = node('control-plane', [parameterNotFound(URL_PARAMETER)]).run('etcd-restore.sh', ['apply', key], { NODE_NAME: 'n', NODE_IP: '10.0.0.1' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`[read-restore-url] FAILED: no signed download URL in ${URL_PARAMETER} (this node's role cannot read snapshots): run etcd-restore.sh request ${key} again`);
    const older = applying(`${PREFIX}/etcd-production-20250629T000000Z.tar.gz`, { cmd: 'curl', args: '*X-Amz-Signature=*', exit: 22 }).run('etcd-restore.sh', ['apply', key], { NODE_NAME: 'n', NODE_IP: '10.0.0.1' });
    expect(older.status).toBe(1);
    expect(older.stderr).toContain(`[read-restore-url] FAILED: ${URL_PARAMETER} signs another object than ${key}`);
    for (const r of [missing, older]) expect(r.calls.some((c) => / s3 (cp|api get-object)/.test(c) || c.startsWith('curl') && c.includes('X-Amz'))).toBe(false);
    // An expired URL (S3: 403): the download fails without printing the URL.
    const expired = applying(key, { cmd: 'curl', args: '*X-Amz-Signature=*', exit: 22, run: 'echo "curl: (22) The requested URL returned error: 403" >&2' }).run('etcd-restore.sh', ['apply', key], { NODE_NAME: 'n', NODE_IP: '10.0.0.1' });
    expect(expired.status).toBe(1);
    expect(expired.stderr).toContain(`[download-snapshot] FAILED: download of ${key} through the signed URL failed (expired after RESTORE_URL_SECONDS, or the restore role cannot read it)`);
    expect(expired.stderr).not.toContain('X-Amz-Signature');
  });
});

describe('worker.sh', () => {
  it('waits while the join material is absent, then joins with the pool labels and taints', () => {
    const n = node('worker', [
      { ...parameterNotFound('/hakube/production/kubeadm/join-token'), times: 2 },
      { cmd: 'aws', args: 'ssm get-parameter * --name /hakube/production/kubeadm/join-token *', stdout: 'abcdef.0123456789abcdef\n' },
      { cmd: 'aws', args: 'ssm get-parameter * --name /hakube/production/kubeadm/ca-cert-hash *', stdout: 'sha256:feed\n' },
    ]);
    const result = n.run('worker.sh');
    expect(result.status, result.stderr).toBe(0);
    // IMDSv2: a session token by PUT, then every read with that token.
    expect(callsOf(result.calls, 'curl').slice(0, 2)).toEqual([
      'curl -fsS -X PUT -H X-aws-ec2-metadata-token-ttl-seconds: 300 http://169.254.169.254/latest/api/token',
      'curl -fsS -H X-aws-ec2-metadata-token: imds-token http://169.254.169.254/latest/meta-data/instance-id',
    ]);
    expect(callsOf(result.calls, 'curl').filter((c) => c.includes('/meta-data/')).every((c) => c.includes('-H X-aws-ec2-metadata-token: imds-token '))).toBe(true);
    const joinConfig = join(n.state, 'kubeadm-join.yaml');
    const getToken = `aws ssm get-parameter ${REGION} --name /hakube/production/kubeadm/join-token --with-decryption --query Parameter.Value --output text`;
    expect(callsOf(result.calls, 'aws', 'kubeadm', 'sleep')).toEqual([
      getToken,
      'sleep 10',
      getToken,
      'sleep 10',
      getToken,
      `aws ssm get-parameter ${REGION} --name /hakube/production/kubeadm/ca-cert-hash --with-decryption --query Parameter.Value --output text`,
      `kubeadm join --config ${joinConfig}`,
    ]);
    expect(readFileSync(joinConfig, 'utf8')).toContain(`token: 'abcdef.0123456789abcdef'`);
    const config = readFileSync(joinConfig, 'utf8');
    expect(config).toContain('value: node.platform.io/pool=general');
    expect(config).not.toContain('controlPlane:');
    expect(n.run('worker.sh').calls.filter((c) => c.startsWith('kubeadm'))).toEqual([]);
  });

  it('gives up after the configured attempts naming the parameter', () => {
    const n = node('worker', [parameterNotFound('*')]);
    const result = n.run('worker.sh', [], { JOIN_WAIT_ATTEMPTS: '2' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('[read-join-material] FAILED: no join material in /hakube/production/kubeadm/join-token after 2 attempts');
  });

  it('never joins with a partial set: an absent CA hash keeps it waiting', () => {
    const n = node('worker', [
      { cmd: 'aws', args: 'ssm get-parameter * --name /hakube/production/kubeadm/join-token *', stdout: 'abcdef.0123456789abcdef\n' },
      parameterNotFound('/hakube/production/kubeadm/ca-cert-hash'),
    ]);
    const result = n.run('worker.sh', [], { JOIN_WAIT_ATTEMPTS: '3' });
    expect(result.status).toBe(1);
    expect(callsOf(result.calls, 'sleep')).toHaveLength(3);
    expect(result.calls.some((c) => c.startsWith('kubeadm'))).toBe(false);
  });
});

describe('install-addons.sh', () => {
  it('installs the pinned charts and hands the Git token to the API on stdin only', () => {
    const n = node('control-plane', [
      { cmd: 'helm', args: 'version --short', stdout: 'v3.19.0+g1\n' },
      { cmd: 'aws', args: 'ssm get-parameter * --name /hakube/production/flux/git-credentials *', stdout: 'github_pat_SECRET\n' },
    ]);
    writeFileSync(join(n.kube, 'admin.conf'), '');
    const result = n.run('install-addons.sh');
    expect(result.status, result.stderr).toBe(0);
    const addons = join(n.etc, 'addons');
    expect(callsOf(result.calls, 'helm', 'kubectl').filter((c) => c.startsWith('helm upgrade') || /^kubectl (wait|apply)/.test(c))).toEqual([
      `helm upgrade --install cilium --repo https://helm.cilium.io cilium --version 1.18.2 --namespace kube-system --create-namespace --values ${addons}/cilium-values.yaml`,
      `helm upgrade --install aws-cloud-controller-manager --repo https://kubernetes.github.io/cloud-provider-aws aws-cloud-controller-manager --version 0.0.10 --namespace kube-system --create-namespace --values ${addons}/ccm-values.yaml`,
      expect.stringMatching(new RegExp(`^helm upgrade --install flux-operator oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator --version \\S+ --namespace flux-system --create-namespace --values ${addons}/flux-operator-values.yaml$`)),
      'kubectl wait --for condition=established --timeout=120s crd/fluxinstances.fluxcd.controlplane.io',
      'kubectl apply -f -',
      `kubectl apply -f ${addons}/flux-instance.yaml`,
    ]);
    expect(result.calls.join('\n')).not.toContain('SECRET');
  });
});
