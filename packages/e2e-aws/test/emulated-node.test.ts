import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultPlatform } from '@platform/platform-config';
import { bootstrapBundle, KUBE_APISERVER_PATCH_FILE, KUBEADM_PATCHES_DIR, renderUserData } from '@platform/node-bootstrap';
import { EmulatedNode } from '../src/emulated-node';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
// The tests block the worker in spawnSync back to back: one event-loop turn after each lets it read
// vitest's RPC replies, which otherwise time out on a loaded machine ("Timeout calling onTaskUpdate").
afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)));

function node(): EmulatedNode {
  const platform = defaultPlatform();
  const cluster = platform.cluster('staging');
  const userData = renderUserData({ role: 'control-plane', cluster, settings: platform.settings, names: platform.namesOf(cluster), apiEndpoint: 'api.staging.internal', bundleVersionId: 'v1' });
  const root = mkdtempSync(join(tmpdir(), 'emulated-node-'));
  dirs.push(root);
  return new EmulatedNode(join(root, 'node'), { instanceId: 'i-0abc', availabilityZone: 'ap-northeast-2a', privateIp: '10.20.1.5', privateDnsName: 'ip-10-20-1-5.ap-northeast-2.compute.internal', vpcId: 'vpc-0e2e', subnetId: 'subnet-0e2e', asg: 'staging-control-plane-a', mac: '02:e2:e2:00:00:01', gateway: '10.20.1.1' }, userData, root, { PATH: process.env.PATH }, Buffer.from(bootstrapBundle('control-plane').contentBase64, 'base64'));
}

const bash = (n: EmulatedNode, script: string) => spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, ...n.env }, cwd: n.root });

describe('EmulatedNode', () => {
  it('unpacks the real scripts and env file the way cloud-init does', () => {
    const n = node();
    expect(n.param('ROLE')).toBe('control-plane');
    expect(n.file('lib/control-plane.sh')).toContain('decide_role');
    expect(n.param('SNAPSHOT_METRIC_FILE')).toBe(join(n.root, 'textfile/etcd_snapshot.prom'));
  });

  it('answers lib.sh node_identity over IMDSv2 with the instance moto launched', () => {
    const n = node();
    const run = bash(n, `. "$BOOTSTRAP_LIB/lib.sh"; node_identity; echo "$INSTANCE_ID $AVAILABILITY_ZONE $NODE_IP $NODE_NAME"`);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('i-0abc ap-northeast-2a 10.20.1.5 ip-10-20-1-5.ap-northeast-2.compute.internal');
  });

  it('refuses a metadata read without the session token, like IMDSv2 (401)', () => {
    const run = bash(node(), 'curl -fsS http://169.254.169.254/latest/meta-data/instance-id');
    expect(run.status).toBe(22);
    expect(run.stderr).toContain('401 without a session token');
  });

  it('prints a join command whose token and hash join-material.sh accepts, every time', () => {
    const n = node();
    const run = bash(n, 'echo x >"$E2E_SHARED/ca-hash"; for i in $(seq 40); do API_ENDPOINT=api kubeadm token create --ttl 4h --print-join-command; done');
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(40);
    for (const line of lines) expect(line).toMatch(/--token [a-z0-9]{6}\.[a-z0-9]{16} --discovery-token-ca-cert-hash sha256:x$/);
  });

  it('never answers anything but IMDS', () => {
    const run = bash(node(), 'curl -fsS -H "X-aws-ec2-metadata-token: e2e-imds-token" https://example.com/');
    expect(run.status).toBe(22);
  });
});

describe('EmulatedNode kubeadm', () => {
  it("writes the kube-apiserver manifest with the key-file flags of the node's own kubeadm patch (node-bootstrap's KUBEADM_PATCHES_DIR / KUBE_APISERVER_PATCH_FILE)", () => {
    const n = node();
    const patch = join(n.env.BOOTSTRAP_ETC!, posix.relative('/etc/node-bootstrap', KUBEADM_PATCHES_DIR), KUBE_APISERVER_PATCH_FILE);
    mkdirSync(dirname(patch), { recursive: true });
    writeFileSync(patch, '- op: add\n  path: /spec/containers/0/command/-\n  value: --service-account-key-file=/etc/node-bootstrap/sa-next.pub\n');
    const run = bash(n, 'printf "controlPlane:\\n  localAPIEndpoint:\\n    advertiseAddress: 10.20.1.99\\n" >join.yaml && kubeadm join --config join.yaml && cat "$KUBE_DIR/manifests/kube-apiserver.yaml"');
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('    - --service-account-key-file=/etc/kubernetes/pki/sa.pub\n    - --service-account-key-file=/etc/node-bootstrap/sa-next.pub\n');
  });

  it("adds the etcd member at the config's advertiseAddress (the slot address), not the primary IP, and etcdctl knows it as the local member", () => {
    const n = node();
    const run = bash(n, 'printf "localAPIEndpoint:\\n  advertiseAddress: \\"10.20.1.99\\"\\n" >init.yaml && kubeadm join --config init.yaml && etcdctl member list && etcdctl --endpoints=https://127.0.0.1:2379 endpoint status -w json');
    expect(run.stderr).toBe('');
    const [member, status] = run.stdout.trim().split('\n');
    expect(member).toBe('1020199, started, ip-10-20-1-5.ap-northeast-2.compute.internal, https://10.20.1.99:2380, https://10.20.1.99:2379, false');
    expect(JSON.parse(status!)).toMatchObject([{ Status: { header: { member_id: 1020199 }, leader: 1020199 } }]);
    expect(bash(node(), 'kubeadm join --config /dev/null').stderr).toContain('no advertiseAddress');
  });

  it('refuses a join or init into a non-empty etcd data dir unless DirAvailable--var-lib-etcd is ignored (any case) or preflight skipped, as kubeadm preflight does', () => {
    const n = node();
    const join = 'printf "controlPlane:\\n  localAPIEndpoint:\\n    advertiseAddress: 10.20.1.99\\n" >join.yaml && mkdir -p "$ETCD_DATA_DIR/lost+found" && kubeadm join --config join.yaml';
    const refused = bash(n, join);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('[ERROR DirAvailable--var-lib-etcd]: /var/lib/etcd is not empty');
    expect(bash(n, `${join} --skip-phases control-plane-prepare/download-certs --ignore-preflight-errors=DirAvailable--var-lib-etcd`).status).toBe(0);
    expect(bash(node(), `${join} --ignore-preflight-errors dirAvailable--var-lib-etcd`).status).toBe(0);
    expect(bash(node(), 'printf "localAPIEndpoint:\\n  advertiseAddress: 10.20.1.99\\n" >init.yaml && mkdir -p "$ETCD_DATA_DIR/member" "$E2E_SHARED/first-init" && kubeadm init --config init.yaml --skip-phases=preflight,upload-config --skip-token-print').status).toBe(0);
  });

  it('refuses a flag the command does not take and a phase name it does not have, as kubeadm does', () => {
    const n = node();
    expect(bash(n, 'kubeadm reset --force --skip-phases=remove-etcd-members')).toMatchObject({ status: 1, stderr: 'invalid phase name: remove-etcd-members\n' });
    expect(bash(n, 'kubeadm join --config j.yaml --skip-phases=remove-etcd-member')).toMatchObject({ status: 1, stderr: 'invalid phase name: remove-etcd-member\n' });
    expect(bash(n, 'kubeadm join --config j.yaml --upload-certs')).toMatchObject({ status: 1, stderr: 'unknown flag: --upload-certs\n' });
    expect(bash(n, 'kubeadm init --config i.yaml --ignore-preflight-errors')).toMatchObject({ status: 1, stderr: 'flag needs an argument: --ignore-preflight-errors\n' });
    expect(bash(n, 'kubeadm reset').status).toBe(1);
  });

  it('kubeadm reset empties the etcd data dir its etcd manifest names and drops the member, unless remove-etcd-member is skipped; either way the node files go', () => {
    const setUp = 'printf "localAPIEndpoint:\\n  advertiseAddress: 10.20.1.99\\n" >j.yaml && kubeadm join --config j.yaml && mkdir -p "$ETCD_DATA_DIR/member.stale-1" && echo e2e >"$KUBE_DIR/kubelet.conf"';
    const kept = node();
    expect(bash(kept, `${setUp} && kubeadm reset --force --skip-phases=remove-etcd-member && ls -A "$ETCD_DATA_DIR" && etcdctl member list | wc -l && ls -A "$KUBE_DIR/manifests" "$KUBE_DIR/pki"`).stdout.split('\n').slice(0, 3)).toEqual(['member', 'member.stale-1', '1']);
    expect(existsSync(join(kept.env.KUBE_DIR!, 'kubelet.conf'))).toBe(false);
    expect(existsSync(join(kept.env.KUBE_DIR!, 'manifests/etcd.yaml'))).toBe(false);
    const emptied = node();
    const run = bash(emptied, `${setUp} && kubeadm reset --force && ls -A "$ETCD_DATA_DIR" && etcdctl member list | wc -l`);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('0');
  });
});
