import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrapNames, CLOUD_CONTROLLER_CONFIG, ETCD_METRICS_PORT } from '@platform/platform-config';
import { awsError, callsOf, FAKE_SA_PUB, FakeNode, inputFor, parameterNotFound, platform, ssmStore, storedParameter, type Rule } from './harness';

const REGION = '--region ap-northeast-2';
const LOCK = '/hakube/production/kubeadm/init-lock';
const TOKEN = '/hakube/production/kubeadm/join-token';
const HASH = '/hakube/production/kubeadm/ca-cert-hash';
const CERT_KEY = '/hakube/production/kubeadm/certificate-key';
const ASGS = 'production-control-plane-a,production-control-plane-b,production-control-plane-c';
const RESTORE = '/hakube/production/kubeadm/restore-from';
const REFRESH_LOCK = '/hakube/production/kubeadm/join-refresh-lock';
const KEY = 'a'.repeat(64);
const ROTATION = '/hakube/production/service-account/rotation';
/** kube-apiserver's key id of the fake sa.pub (base64url SHA-256 of its DER SubjectPublicKeyInfo). */
const SA_KID = createHash('sha256').update(createPublicKey(FAKE_SA_PUB).export({ type: 'spki', format: 'der' })).digest('base64url');

// BOOTSTRAP_NOW_EPOCH (harness) + JOIN_REFRESH_LOCK_SECONDS.
const LOCK_VALUE = `i-new ${Date.UTC(2025, 5, 30, 12) / 1000 + 300}`;
const get = (name: string) => `aws ssm get-parameter ${REGION} --name ${name} --with-decryption --query Parameter.Value --output text`;
/** service-account-issuer.sh key-set before kubeadm init/join: the rotation state (absent: steady, sa.pub alone). */
const KEY_SET = get(ROTATION);
/** Every kubeadm init starts a new etcd generation (BOOTSTRAP_NOW_EPOCH of the harness, the initialiser's id). */
const GENERATION = `aws ssm put-parameter ${REGION} --name /hakube/production/etcd/generation --value ${Date.UTC(2025, 5, 30, 12) / 1000}-i-new --type String --overwrite`;
const put = (name: string, value: string) => `aws ssm put-parameter ${REGION} --name ${name} --value ${value} --type SecureString --key-id alias/production-cluster --tier Standard --overwrite`;
const describeHolder = (id: string) => `aws ec2 describe-instances ${REGION} --instance-ids ${id} --query Reservations[].Instances[].State.Name --output text`;
/** A waiter taking the init lock over from a dead holder: the per-holder takeover lock, then the lock itself. */
const takeOver = (holder: string) => [`aws ssm put-parameter ${REGION} --name ${LOCK}/takeover-${holder} --value i-new --type String`, `aws ssm put-parameter ${REGION} --name ${LOCK} --value i-new --type String --overwrite`];
const describeLive = `aws ec2 describe-instances ${REGION} --filters Name=tag:aws:autoscaling:groupName,Values=${ASGS} Name=instance-state-name,Values=pending,running,stopping,stopped --query Reservations[].Instances[].[InstanceId,PrivateIpAddress,Tags[?Key=='aws:autoscaling:groupName']|[0].Value] --output text`;
const describeLeaving = (ids: string) => `aws autoscaling describe-auto-scaling-instances ${REGION} --instance-ids ${ids} --query AutoScalingInstances[?starts_with(LifecycleState,'Terminating')].InstanceId --output text`;

/** The initialiser completes its own launching hook (only its ASG's call can succeed) before kubeadm init. */
const COMPLETE_HOOK = ['a', 'b', 'c'].map((z) => `aws autoscaling complete-lifecycle-action ${REGION} --lifecycle-hook-name production-node-launching --auto-scaling-group-name production-control-plane-${z} --instance-id i-new --lifecycle-action-result CONTINUE`);

const publishRules: Rule[] = [
  { cmd: 'kubeadm', args: 'certs certificate-key', stdout: `${KEY}\n` },
  { cmd: 'kubeadm', args: 'token create *', stdout: 'kubeadm join api:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:feed \n' },
];
/** What join-material.sh publish issues under its lock (the token last). */
const PUBLISH = [
  `aws ssm put-parameter ${REGION} --name ${REFRESH_LOCK} --value ${LOCK_VALUE} --type String`,
  // No publish while a restore is requested (the old cluster's material must stay deleted).
  get(RESTORE),
  // check-signing-key: the certificates uploaded carry the sa.key the rotation signs with.
  KEY_SET,
  'kubeadm certs certificate-key',
  `kubeadm init phase upload-certs --upload-certs --certificate-key ${KEY}`,
  'kubeadm token create --ttl 14400s --print-join-command',
  put(CERT_KEY, KEY),
  put(HASH, 'sha256:feed'),
  put(TOKEN, 'abcdef.0123456789abcdef'),
  get(REFRESH_LOCK),
  `aws ssm delete-parameter ${REGION} --name ${REFRESH_LOCK}`,
];
const RELEASES = [['kube-system', 'cilium'], ['kube-system', 'aws-cloud-controller-manager'], ['flux-system', 'flux-operator']];
/** Neither deployed nor a Flux HelmRelease: missing. */
const checkRelease = ([ns, name]: string[]) => [`helm list -n ${ns} -a -f ^${name}$ -o json`, `kubectl get helmreleases.helm.toolkit.fluxcd.io ${name} -n ${ns} --ignore-not-found -o name`];
/** install-addons.sh on a cluster without the core add-ons: all three charts under the lease, then Flux. */
const addonCalls = (addons: string) => [
  'helm version --short',
  ...RELEASES.flatMap(checkRelease),
  'kubectl create -f -',
  ...checkRelease(RELEASES[0]),
  `helm upgrade --install cilium --repo https://helm.cilium.io cilium --version 1.18.2 --namespace kube-system --create-namespace --values ${addons}/cilium-values.yaml`,
  ...checkRelease(RELEASES[1]),
  `helm upgrade --install aws-cloud-controller-manager --repo https://kubernetes.github.io/cloud-provider-aws aws-cloud-controller-manager --version 0.0.10 --namespace kube-system --create-namespace --values ${addons}/ccm-values.yaml`,
  ...checkRelease(RELEASES[2]),
  expect.stringMatching(/^helm upgrade --install flux-operator oci:\/\/ghcr\.io\/controlplaneio-fluxcd\/charts\/flux-operator --version \S+ --namespace flux-system --create-namespace --values \S+\/flux-operator-values\.yaml$/),
  'kubectl get lease core-addons -n kube-system -o jsonpath={.spec.holderIdentity}',
  'kubectl delete lease core-addons -n kube-system',
  'kubectl wait --for condition=established --timeout=120s crd/fluxinstances.fluxcd.controlplane.io',
  'kubectl get fluxinstances.fluxcd.controlplane.io -n flux-system --ignore-not-found -o name',
  get('/hakube/production/flux/git-credentials'),
  'kubectl apply -f -',
  `kubectl apply -f ${addons}/flux-instance.yaml`,
  'systemctl start --no-block ci-kubeconfig.service',
];
/** service-account-issuer.sh at every boot, before the add-ons (the cloud controller's first STS call needs the JWKS): the rotation parameter (absent here), then both documents. */
const putIssuerDocument = (key: string, file: string) =>
  expect.stringMatching(new RegExp(`^aws s3api put-object ${REGION} --bucket hakube-production-oidc-ap-northeast-2 --key ${key.replace(/[./]/g, '\\$&')} --body \\S+/${file} --content-type application/json$`));
const ISSUER = [
  get(ROTATION),
  putIssuerDocument('openid/v1/jwks', 'jwks.json'),
  putIssuerDocument('.well-known/openid-configuration', 'discovery.json'),
  // The key set this node's API server runs with, for service-account-key-rotation.sh.
  `aws ssm put-parameter ${REGION} --name /hakube/production/service-account/key-set/i-new --type String --overwrite --value signing=${SA_KID} accepted=${SA_KID}`,
];
/** Last at every boot, after the timers and the add-ons: the identity stage this node booted with, for the apply's identity-roll gate (pipeline). */
const STAGE_RECORD = expect.stringMatching(new RegExp(`^aws ssm put-parameter ${REGION} --name /hakube/production/identity-stage/i-new --type String --overwrite --value stage=complete config=[0-9a-f]{64}$`));
const TIMERS = 'systemctl enable --now etcd-snapshot.timer join-material-refresh.timer kubelet-serving-approver.timer service-account-keys.timer';
/**
 * Everything but the IMDS reads and the etcd slot's lookups: these nodes have no slot (the fake EC2
 * answers no volume and no address), so they take the fallback path, today's; the slot itself is
 * etcd-slot.test.ts's subject.
 */
const slotLookup = (c: string) => c.includes('AutoScalingInstances[0].AutoScalingGroupName') || c.startsWith('aws ec2 describe-network-interfaces');
const commands = (calls: readonly string[]) => callsOf(calls, 'aws', 'kubeadm', 'etcdctl', 'etcdutl', 'systemctl', 'helm', 'kubectl', 'sleep').filter((c) => !slotLookup(c));

const joinMaterial: Rule[] = [
  { cmd: 'aws', args: `ssm get-parameter * --name ${TOKEN} *`, stdout: 'abcdef.0123456789abcdef\n' },
  { cmd: 'aws', args: `ssm get-parameter * --name ${HASH} *`, stdout: 'sha256:feed\n' },
  { cmd: 'aws', args: `ssm get-parameter * --name ${CERT_KEY} *`, stdout: `${KEY}\n` },
];

const SNAPSHOT = 'etcd-snapshots/production/etcd-production-20250630T114500Z.tar.gz';
/** A restore request of SNAPSHOT (etcd-restore.sh request) as SSM, S3 and etcdutl answer it. */
const restoreRules: Rule[] = [
  // The request until the initialiser deletes it (after kubeadm init), then ParameterNotFound.
  { cmd: 'aws', args: `ssm get-parameter * --name ${RESTORE} *`, run: `[[ ! -f $FAKE_DIR/restore-cleared ]] || { echo "An error occurred (ParameterNotFound) when calling the GetParameter operation: " >&2; exit 254; }; echo '${SNAPSHOT}'` },
  { cmd: 'aws', args: `ssm delete-parameter * --name ${RESTORE}`, run: 'touch "$FAKE_DIR/restore-cleared"' },
  // etcd-restore.sh request stored a URL the restore role signed: the node role reads no snapshot itself.
  { cmd: 'aws', args: 'ssm get-parameter * --name /hakube/production/kubeadm/restore-url *', stdout: `https://hakube-production-etcd-backups-ap-northeast-2.s3.ap-northeast-2.amazonaws.com/${SNAPSHOT}?X-Amz-Signature=abc\n` },
  // The archive etcd-snapshot.sh writes (writeSnapshotArchive): snapshot.db and the CA/service-account keys.
  { cmd: 'curl', args: `-fsS -o * https://hakube-production-etcd-backups-ap-northeast-2.s3.ap-northeast-2.amazonaws.com/${SNAPSHOT}?X-Amz-Signature=abc`, run: 'cp "$FAKE_DIR/archive.tar.gz" "$3"' },
  // Like the real etcdutl: only into a directory that does not exist or is empty.
  { cmd: 'etcdutl', args: 'snapshot restore *', run: '[[ ! -e $5 ]] || { echo "data-dir $5 not empty" >&2; exit 1; }; mkdir -p "$5/member/snap"' },
];
function writeSnapshotArchive(node: FakeNode) {
  const archive = join(node.root, 'archive');
  mkdirSync(join(archive, 'pki', 'etcd'), { recursive: true });
  for (const f of ['snapshot.db', 'pki/ca.crt', 'pki/ca.key', 'pki/sa.key', 'pki/etcd/ca.key']) writeFileSync(join(archive, f), `old ${f}`);
  expect(spawnSync('tar', ['-czf', join(node.fakeDir, 'archive.tar.gz'), '-C', archive, '.']).status).toBe(0);
}

const nodes: FakeNode[] = [];
function controlPlane(rules: Rule[]) {
  const node = new FakeNode(inputFor('production', 'control-plane'));
  node.setRules([
    ...rules,
    { cmd: 'kubeadm', args: 'init --config *', creates: join(node.kube, 'admin.conf') },
    // A control-plane join writes admin.conf too.
    { cmd: 'kubeadm', args: 'join --config *', creates: join(node.kube, 'admin.conf') },
    { cmd: 'helm', args: 'version --short', stdout: 'v3.19.0+g3d8990f\n' },
    { cmd: 'kubectl', args: 'get lease core-addons *', stdout: 'i-new' },
    { cmd: 'aws', args: `ssm get-parameter * --name ${REFRESH_LOCK} *`, stdout: `${LOCK_VALUE}\n` },
    { cmd: 'aws', args: 'ssm get-parameter * --name /hakube/production/flux/git-credentials *', stdout: 'github_pat_x\n' },
    // No restore requested unless a test says so: SSM answers ParameterNotFound for a name never written.
    parameterNotFound(RESTORE),
  ]);
  nodes.push(node);
  return node;
}

/** A control-plane node booting again after it joined and installed the add-ons (reboot, cloud-init re-run). */
function rebootedControlPlane() {
  const node = controlPlane([]);
  writeFileSync(join(node.state, 'control-plane.done'), '');
  writeFileSync(join(node.state, 'core-addons.done'), '');
  writeFileSync(join(node.kube, 'pki', 'sa.pub'), FAKE_SA_PUB);
  node.writeApiServerManifest();
  return node;
}
afterEach(() => nodes.splice(0).forEach((n) => rmSync(n.root, { recursive: true, force: true })));

describe('control-plane.sh: exactly one initialiser', () => {
  it('takes the lock with a create-only put and initialises, publishes join material, installs add-ons', () => {
    const node = controlPlane([...publishRules, parameterNotFound(RESTORE)]);
    const result = node.run('control-plane.sh');
    expect(result.status, result.stderr).toBe(0);
    const initConfig = join(node.state, 'kubeadm-init.yaml');
    expect(commands(result.calls)).toEqual([
      `aws ssm put-parameter ${REGION} --name ${LOCK} --value i-new --type String`,
      get(RESTORE),
      'kubeadm certs certificate-key',
      GENERATION,
      `kubeadm init phase certs sa --config ${initConfig}`,
      KEY_SET,
      ...COMPLETE_HOOK,
      `kubeadm init --config ${initConfig} --upload-certs --skip-token-print --skip-certificate-key-print`,
      ...PUBLISH,
      ...ISSUER,
      TIMERS,
      ...addonCalls(join(node.etc, 'addons')),
      STAGE_RECORD,
    ]);
    // The lock put never overwrites: that is what makes it a lock.
    expect(result.calls[0]).not.toContain('--overwrite');
    const rendered = node.file(initConfig);
    expect(rendered).toContain(`name: 'ip-10-20-1-20.ap-northeast-2.compute.internal'`);
    expect(rendered).toContain('value: aws:///ap-northeast-2b/i-new');
    expect(rendered).toContain(`certificateKey: '${KEY}'`);
    expect(rendered).not.toContain('@@');
    // The API NLB as the endpoint, and the failover settings of docs/bootstrap-timings.md (production).
    expect(rendered).toContain('controlPlaneEndpoint: ${aws_lb.api_production.dns_name}:6443\n');
    for (const [flag, value] of [['default-unreachable-toleration-seconds', `'35'`], ['default-not-ready-toleration-seconds', `'35'`], ['node-monitor-grace-period', '20s'], ['node-monitor-period', '2s']]) {
      expect(rendered).toMatch(new RegExp(`- name: ${flag}\\n +value: ${value}\\n`));
    }
    expect(rendered).toContain('nodeStatusUpdateFrequency: 4s\nnodeStatusReportFrequency: 60s\nnodeLeaseDurationSeconds: 16\n');
    // etcd metrics on every address (kubeadm's default is 127.0.0.1), so Prometheus can scrape them.
    expect(rendered).toContain(`etcd:\n  local:\n    dataDir: /var/lib/etcd\n    extraArgs:\n      - name: listen-metrics-urls\n        value: http://0.0.0.0:${ETCD_METRICS_PORT}\n`);
    expect(ETCD_METRICS_PORT).toBe(2381);
    expect(node.exists(join(node.state, 'kubeadm-init.done'))).toBe(true);
    expect(node.exists(join(node.state, 'control-plane.done'))).toBe(true);
  });

  it('joins when another instance holds the lock and join material exists, removing members of dead instances first', () => {
    const node = controlPlane([
      { cmd: 'aws', args: `ssm put-parameter * --name ${LOCK} *`, exit: 254 },
      { cmd: 'aws', args: `ssm get-parameter * --name ${LOCK} *`, stdout: 'i-first\n' },
      ...joinMaterial,
      { cmd: 'aws', args: 'ec2 describe-instances * --filters *', stdout: 'i-a\t10.20.0.10\ni-c\t10.20.2.30\ni-new\t10.20.1.20\n' },
      { cmd: 'aws', args: 'autoscaling describe-auto-scaling-instances *', stdout: '\n' },
      {
        cmd: 'etcdctl',
        args: '*member list*',
        stdout: [
          '1a2b3c, started, ip-10-20-0-10, https://10.20.0.10:2380, https://10.20.0.10:2379, false',
          '4d5e6f, started, ip-10-20-1-11, https://10.20.1.11:2380, https://10.20.1.11:2379, false',
          '7a8b9c, started, ip-10-20-2-30, https://10.20.2.30:2380, https://10.20.2.30:2379, false',
          '',
        ].join('\n'),
      },
    ]);
    const result = node.run('control-plane.sh');
    expect(result.status, result.stderr).toBe(0);
    const joinConfig = join(node.state, 'kubeadm-join.yaml');
    const endpoints = '--endpoints=https://10.20.0.10:2379,https://10.20.2.30:2379';
    expect(callsOf(result.calls, 'aws', 'kubeadm', 'etcdctl', 'systemctl').filter((c) => !slotLookup(c))).toEqual([
      `aws ssm put-parameter ${REGION} --name ${LOCK} --value i-new --type String`,
      get(LOCK),
      get(TOKEN),
      // A token counts only while no restore is requested (it would be the lost cluster's).
      get(RESTORE),
      // B1: no join while a restore is requested.
      get(RESTORE),
      get(TOKEN),
      get(HASH),
      get(CERT_KEY),
      `kubeadm join phase control-plane-prepare download-certs --config ${joinConfig}`,
      `kubeadm join phase control-plane-prepare certs --config ${joinConfig}`,
      KEY_SET,
      describeLive,
      describeLeaving('i-a i-c i-new'),
      `etcdctl ${endpoints} member list -w simple`,
      `etcdctl ${endpoints} member remove 4d5e6f`,
      `kubeadm join --config ${joinConfig} --skip-phases control-plane-prepare/download-certs`,
      ...ISSUER,
      TIMERS,
      // install-addons.sh: nothing of the core add-ons there (rule fakes), so this node installs them.
      get('/hakube/production/flux/git-credentials'),
      'systemctl start --no-block ci-kubeconfig.service',
      STAGE_RECORD,
    ]);
    const rendered = node.file(joinConfig);
    expect(rendered).toContain(`token: 'abcdef.0123456789abcdef'`);
    expect(rendered).toContain(`- 'sha256:feed'`);
    expect(rendered).toContain('apiServerEndpoint: ${aws_lb.api_production.dns_name}:6443');
  });

  it('removes its own leftover member and resets an unfinished join before joining again', () => {
    const node = controlPlane([
      { cmd: 'aws', args: `ssm put-parameter * --name ${LOCK} *`, exit: 254 },
      { cmd: 'aws', args: `ssm get-parameter * --name ${LOCK} *`, stdout: 'i-first\n' },
      ...joinMaterial,
      { cmd: 'aws', args: 'ec2 describe-instances * --filters *', stdout: 'i-a\t10.20.0.10\ni-new\t10.20.1.20\n' },
      { cmd: 'aws', args: 'autoscaling describe-auto-scaling-instances *', stdout: '\n' },
      { cmd: 'etcdctl', args: '*member list*', stdout: 'aa, started, a, https://10.20.0.10:2380, x, false\nbb, unstarted, , https://10.20.1.20:2380, , false\n' },
    ]);
    writeFileSync(join(node.kube, 'kubelet.conf'), 'left over');
    const result = node.run('control-plane.sh');
    expect(result.status, result.stderr).toBe(0);
    const relevant = callsOf(result.calls, 'kubeadm', 'etcdctl');
    expect(relevant[0]).toBe('kubeadm reset --force --skip-phases=remove-etcd-member');
    expect(relevant).toContain('etcdctl --endpoints=https://10.20.0.10:2379 member remove bb');
    expect(relevant).not.toContain('etcdctl --endpoints=https://10.20.0.10:2379 member remove aa');
  });

  it('waits while the join material is absent (not published), then takes over once the holder is gone', () => {
    const node = controlPlane([
      { cmd: 'aws', args: `ssm put-parameter * --name ${LOCK} --value i-new --type String`, exit: 254 },
      { cmd: 'aws', args: `ssm get-parameter * --name ${LOCK} *`, stdout: 'i-dead\n' },
      parameterNotFound(TOKEN),
      { cmd: 'aws', args: 'ec2 describe-instances * --instance-ids i-dead *', stdout: 'running\n', times: 1 },
      { cmd: 'aws', args: 'ec2 describe-instances * --instance-ids i-dead *', stdout: 'terminated\n' },
      parameterNotFound(RESTORE),
      ...publishRules,
    ]);
    const result = node.run('control-plane.sh');
    expect(result.status, result.stderr).toBe(0);
    const round = [`aws ssm put-parameter ${REGION} --name ${LOCK} --value i-new --type String`, get(LOCK), get(TOKEN), describeHolder('i-dead')];
    expect(commands(result.calls)).toEqual([
      ...round,
      'sleep 10',
      ...round,
      ...takeOver('i-dead'),
      get(RESTORE),
      'kubeadm certs certificate-key',
      GENERATION,
      `kubeadm init phase certs sa --config ${join(node.state, 'kubeadm-init.yaml')}`,
      KEY_SET,
      ...COMPLETE_HOOK,
      `kubeadm init --config ${join(node.state, 'kubeadm-init.yaml')} --upload-certs --skip-token-print --skip-certificate-key-print`,
      ...PUBLISH,
      ...ISSUER,
      TIMERS,
      ...addonCalls(join(node.etc, 'addons')),
      STAGE_RECORD,
    ]);
    expect(result.stderr).toContain('initialiser i-dead died before publishing join material; took over');
  });

  it('takes over when EC2 no longer knows the holder (InvalidInstanceID.NotFound)', () => {
    const node = controlPlane([
      { cmd: 'aws', args: `ssm put-parameter * --name ${LOCK} --value i-new --type String`, exit: 254 },
      { cmd: 'aws', args: `ssm get-parameter * --name ${LOCK} *`, stdout: 'i-old\n' },
      parameterNotFound(TOKEN),
      awsError('ec2 describe-instances * --instance-ids i-old *', 'InvalidInstanceID.NotFound'),
      parameterNotFound(RESTORE),
      ...publishRules,
    ]);
    const result = node.run('control-plane.sh');
    expect(result.status, result.stderr).toBe(0);
    expect(commands(result.calls).slice(0, 7)).toEqual([
      `aws ssm put-parameter ${REGION} --name ${LOCK} --value i-new --type String`,
      get(LOCK),
      get(TOKEN),
      describeHolder('i-old'),
      ...takeOver('i-old'),
      get(RESTORE),
    ]);
    expect(result.calls).toContain(`kubeadm init --config ${join(node.state, 'kubeadm-init.yaml')} --upload-certs --skip-token-print --skip-certificate-key-print`);
  });

  it('takes over from a dead restorer although the lost cluster republished its token after the restore request', () => {
    // join-material.sh publish on an old node read no request, then wrote its material back after
    // etcd-restore.sh request deleted it; the restored cluster's initialiser died before kubeadm init.
    const node = controlPlane([
      { cmd: 'aws', args: `ssm put-parameter * --name ${LOCK} --value i-new --type String`, exit: 254 },
      { cmd: 'aws', args: `ssm get-parameter * --name ${LOCK} *`, stdout: 'i-restorer\n' },
      ...joinMaterial,
      { cmd: 'aws', args: 'ec2 describe-instances * --instance-ids i-restorer *', stdout: 'terminated\n' },
      ...restoreRules,
      ...publishRules,
    ]);
    writeSnapshotArchive(node);
    const result = node.run('control-plane.sh');
    expect(result.status, result.stderr).toBe(0);
    expect(commands(result.calls).slice(0, 10)).toEqual([
      `aws ssm put-parameter ${REGION} --name ${LOCK} --value i-new --type String`,
      get(LOCK),
      get(TOKEN),
      get(RESTORE),
      describeHolder('i-restorer'),
      ...takeOver('i-restorer'),
      get(RESTORE),
      'kubeadm certs certificate-key',
      get('/hakube/production/kubeadm/restore-url'),
    ]);
    expect(result.stderr).toContain(`restore of ${SNAPSHOT} pending: the published token is the lost cluster's`);
    expect(result.stderr).toContain('initialiser i-restorer died before publishing join material; took over');
    expect(result.calls.some((c) => c.startsWith('etcdutl snapshot restore '))).toBe(true);
    // The request cleared, then the restored cluster's own material replaces the stale token.
    const calls = commands(result.calls);
    expect(calls.indexOf(`aws ssm delete-parameter ${REGION} --name ${RESTORE}`)).toBeLessThan(calls.indexOf(put(TOKEN, 'abcdef.0123456789abcdef')));
    expect(result.calls.some((c) => c.startsWith('kubeadm join'))).toBe(false);
  });

  it.each(['Throttling', 'UnauthorizedOperation', 'RequestExpired'])('never takes over when describe-instances fails with %s: the holder may be alive', (code) => {
    const node = controlPlane([
      { cmd: 'aws', args: `ssm put-parameter * --name ${LOCK} *`, exit: 254 },
      { cmd: 'aws', args: `ssm get-parameter * --name ${LOCK} *`, stdout: 'i-busy\n' },
      parameterNotFound(TOKEN),
      awsError('ec2 describe-instances * --instance-ids i-busy *', code),
    ]);
    const result = node.run('control-plane.sh', [], { LOCK_WAIT_ATTEMPTS: '2' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`cannot tell whether i-busy still exists (An error occurred (${code})`);
    expect(result.stderr).toContain('[decide-role] FAILED: no join material after 2 attempts (init lock held by i-busy)');
    const round = [`aws ssm put-parameter ${REGION} --name ${LOCK} --value i-new --type String`, get(LOCK), get(TOKEN), describeHolder('i-busy'), 'sleep 10'];
    expect(commands(result.calls)).toEqual([...round, ...round]);
  });

  it('never takes over while the join token cannot be read (an SSM error is not "unpublished")', () => {
    const node = controlPlane([
      { cmd: 'aws', args: `ssm put-parameter * --name ${LOCK} *`, exit: 254 },
      { cmd: 'aws', args: `ssm get-parameter * --name ${LOCK} *`, stdout: 'i-dead\n' },
      awsError(`ssm get-parameter * --name ${TOKEN} *`, 'ThrottlingException'),
      { cmd: 'aws', args: 'ec2 describe-instances * --instance-ids i-dead *', stdout: 'terminated\n' },
    ]);
    const result = node.run('control-plane.sh', [], { LOCK_WAIT_ATTEMPTS: '1', SSM_READ_ATTEMPTS: '2' });
    expect(result.status).toBe(1);
    // ssm_get retries once (SSM_READ_ATTEMPTS 2), then decide_role waits: no describe, no takeover.
    expect(commands(result.calls)).toEqual([`aws ssm put-parameter ${REGION} --name ${LOCK} --value i-new --type String`, get(LOCK), get(TOKEN), 'sleep 10', get(TOKEN), 'sleep 10']);
    expect(result.stderr).toContain(`reading ${TOKEN} failed 2 times: An error occurred (ThrottlingException)`);
  });

  it('keeps waiting while the holder lives, then fails naming the lock holder', () => {
    const node = controlPlane([
      { cmd: 'aws', args: `ssm put-parameter * --name ${LOCK} *`, exit: 254 },
      { cmd: 'aws', args: `ssm get-parameter * --name ${LOCK} *`, stdout: 'i-busy\n' },
      // Not published yet: the parameter does not exist.
      parameterNotFound(TOKEN),
      { cmd: 'aws', args: 'ec2 describe-instances * --instance-ids i-busy *', stdout: 'running\n' },
    ]);
    const result = node.run('control-plane.sh', [], { LOCK_WAIT_ATTEMPTS: '3' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('[decide-role] FAILED: no join material after 3 attempts (init lock held by i-busy)');
    expect(callsOf(result.calls, 'sleep')).toEqual(['sleep 10', 'sleep 10', 'sleep 10']);
    expect(result.calls.some((c) => c.startsWith('kubeadm'))).toBe(false);
  });

  it('resets an unfinished init and sets leftover etcd data aside before initialising again', () => {
    const node = controlPlane([...publishRules, parameterNotFound(RESTORE)]);
    writeFileSync(join(node.kube, 'kubelet.conf'), 'left over');
    // kubeadm wrote etcd's manifest before it gave up: a plain reset would empty the data dir it names.
    mkdirSync(join(node.kube, 'manifests'), { recursive: true });
    writeFileSync(join(node.kube, 'manifests', 'etcd.yaml'), 'left over');
    mkdirSync(join(node.root, 'etcd', 'member'), { recursive: true });
    const result = node.run('control-plane.sh');
    expect(result.status, result.stderr).toBe(0);
    const kubeadm = callsOf(result.calls, 'kubeadm');
    // The set-aside data stays in the data dir: kubeadm's preflight is told it is not empty.
    expect(kubeadm.slice(0, 4)).toEqual(['kubeadm reset --force --skip-phases=remove-etcd-member', 'kubeadm certs certificate-key', `kubeadm init phase certs sa --config ${join(node.state, 'kubeadm-init.yaml')}`, `kubeadm init --config ${join(node.state, 'kubeadm-init.yaml')} --upload-certs --skip-token-print --skip-certificate-key-print --ignore-preflight-errors=DirAvailable--var-lib-etcd`]);
    expect(readdirSync(join(node.root, 'etcd'))).toEqual([`member.unfinished-${Date.UTC(2025, 5, 30, 12) / 1000}`]);
  });

  it('resets an init that wrote admin.conf but never finished (no kubeadm-init.done) before initialising again', () => {
    const node = controlPlane([...publishRules, parameterNotFound(RESTORE)]);
    // kubeadm writes admin.conf in its kubeconfig phase, long before the control plane is up.
    writeFileSync(join(node.kube, 'admin.conf'), 'early');
    const result = node.run('control-plane.sh');
    expect(result.status, result.stderr).toBe(0);
    expect(callsOf(result.calls, 'kubeadm').slice(0, 4)).toEqual(['kubeadm reset --force --skip-phases=remove-etcd-member', 'kubeadm certs certificate-key', `kubeadm init phase certs sa --config ${join(node.state, 'kubeadm-init.yaml')}`, `kubeadm init --config ${join(node.state, 'kubeadm-init.yaml')} --upload-certs --skip-token-print --skip-certificate-key-print`]);
    expect(node.file(join(node.state, 'kubeadm-init.done'))).toBe('\n');
  });

  it('keeps the join token and the certificate key out of its output (the journal of node-bootstrap.service)', () => {
    const token = 'abcdef.0123456789abcdef';
    // kubeadm init as it behaves: the upload-certs phase prints the certificate key and the end
    // prints both join commands, unless told not to (then the values read "<value withheld>").
    const kubeadmInit = [
      'for a; do case $a in --skip-token-print) st=1 ;; --skip-certificate-key-print) sk=1 ;; esac; done',
      `t=${token}; k=${KEY}; : >"$KUBE_DIR/admin.conf"`,
      '[[ -n ${sk:-} ]] || printf \'[upload-certs] Using certificate key:\\n%s\\n\' "$k"',
      '[[ -z ${st:-} ]] || t=\'<value withheld>\'',
      '[[ -z ${sk:-} ]] || k=\'<value withheld>\'',
      'printf \'  kubeadm join api:6443 --token %s --discovery-token-ca-cert-hash sha256:feed --control-plane --certificate-key %s\\n\' "$t" "$k"',
      'printf \'kubeadm join api:6443 --token %s --discovery-token-ca-cert-hash sha256:feed\\n\' "$t"',
    ].join('\n');
    const node = controlPlane([...publishRules, parameterNotFound(RESTORE), { cmd: 'kubeadm', args: 'init --config *', run: kubeadmInit }]);
    const result = node.run('control-plane.sh');
    expect(result.status, result.stderr).toBe(0);
    const output = `${result.stdout}${result.stderr}`;
    expect(output).toContain('kubeadm join api:6443 --token <value withheld>');
    expect(output).not.toContain(token);
    expect(output).not.toContain(KEY);
  });

  it('does not run kubeadm init again once it finished (kubeadm-init.done), but still publishes and installs add-ons', () => {
    const node = controlPlane([...publishRules, parameterNotFound(RESTORE)]);
    writeFileSync(join(node.kube, 'admin.conf'), '');
    writeFileSync(join(node.state, 'kubeadm-init.done'), '\n');
    writeFileSync(join(node.kube, 'pki', 'sa.pub'), FAKE_SA_PUB);
    node.writeApiServerManifest();
    const result = node.run('control-plane.sh');
    expect(result.status, result.stderr).toBe(0);
    expect(commands(result.calls)).toEqual([`aws ssm put-parameter ${REGION} --name ${LOCK} --value i-new --type String`, ...PUBLISH, ...ISSUER, TIMERS, ...addonCalls(join(node.etc, 'addons')), STAGE_RECORD]);
    expect(result.stderr).toContain('kubeadm init already done on this node');
  });

  it('fails loudly instead of initialising a fresh cluster when restore-from cannot be read', () => {
    const node = controlPlane([...publishRules, awsError(`ssm get-parameter * --name ${RESTORE} *`, 'AccessDeniedException')]);
    const result = node.run('control-plane.sh', [], { SSM_READ_ATTEMPTS: '3' });
    expect(result.status).toBe(1);
    expect(commands(result.calls)).toEqual([`aws ssm put-parameter ${REGION} --name ${LOCK} --value i-new --type String`, get(RESTORE), 'sleep 10', get(RESTORE), 'sleep 10', get(RESTORE)]);
    expect(result.stderr).toContain(`[read-restore-request] FAILED: cannot read ${RESTORE}: refusing to guess whether a restore was requested`);
    expect(node.exists(join(node.state, 'kubeadm-init.done'))).toBe(false);
  });

  it('initialises whatever completing the launching hook answers (other ASGs, an absent or finished hook)', () => {
    // Auto Scaling answers ValidationError for an instance not in that ASG or with no pending action.
    const node = controlPlane([...publishRules, parameterNotFound(RESTORE), awsError('autoscaling complete-lifecycle-action *', 'ValidationError')]);
    const result = node.run('control-plane.sh');
    expect(result.status, result.stderr).toBe(0);
    const calls = commands(result.calls);
    const at = calls.indexOf(COMPLETE_HOOK[0]);
    expect(calls.slice(at, at + 4)).toEqual([...COMPLETE_HOOK, `kubeadm init --config ${join(node.state, 'kubeadm-init.yaml')} --upload-certs --skip-token-print --skip-certificate-key-print`]);
  });

  it('retries a transient restore-from read and initialises normally once SSM answers "not found"', () => {
    const node = controlPlane([...publishRules, awsError(`ssm get-parameter * --name ${RESTORE} *`, 'ThrottlingException', 1), parameterNotFound(RESTORE)]);
    const result = node.run('control-plane.sh');
    expect(result.status, result.stderr).toBe(0);
    expect(commands(result.calls).slice(0, 12)).toEqual([
      `aws ssm put-parameter ${REGION} --name ${LOCK} --value i-new --type String`,
      get(RESTORE),
      'sleep 10',
      get(RESTORE),
      'kubeadm certs certificate-key',
      GENERATION,
      `kubeadm init phase certs sa --config ${join(node.state, 'kubeadm-init.yaml')}`,
      KEY_SET,
      ...COMPLETE_HOOK,
      `kubeadm init --config ${join(node.state, 'kubeadm-init.yaml')} --upload-certs --skip-token-print --skip-certificate-key-print`,
    ]);
  });

  it('refuses to join while the certificate key is absent (a token alone is not the whole material)', () => {
    const node = controlPlane([
      { cmd: 'aws', args: `ssm put-parameter * --name ${LOCK} *`, exit: 254 },
      { cmd: 'aws', args: `ssm get-parameter * --name ${LOCK} *`, stdout: 'i-first\n' },
      parameterNotFound(CERT_KEY),
      ...joinMaterial,
    ]);
    const result = node.run('control-plane.sh');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`[read-join-material] FAILED: no published certificate key in ${CERT_KEY}`);
    expect(result.calls.some((c) => c.startsWith('kubeadm'))).toBe(false);
  });

  it('initialises from the requested snapshot: CAs back, etcd restored beside leftover data, restore request cleared', () => {
    const node = controlPlane([...publishRules, ...restoreRules]);
    writeSnapshotArchive(node);
    // An unfinished earlier attempt on this node: its etcd data is set aside, not deleted.
    writeFileSync(join(node.kube, 'kubelet.conf'), 'left over');
    mkdirSync(join(node.root, 'etcd', 'member'), { recursive: true });
    const result = node.run('control-plane.sh');
    expect(result.status, result.stderr).toBe(0);
    const nodeName = 'ip-10-20-1-20.ap-northeast-2.compute.internal';
    expect(callsOf(result.calls, 'aws', 'kubeadm', 'etcdutl').filter((c) => !slotLookup(c)).slice(0, 14)).toEqual([
      `aws ssm put-parameter ${REGION} --name ${LOCK} --value i-new --type String`,
      'kubeadm reset --force --skip-phases=remove-etcd-member',
      get('/hakube/production/kubeadm/restore-from'),
      'kubeadm certs certificate-key',
      get('/hakube/production/kubeadm/restore-url'),
      expect.stringMatching(
        new RegExp(`^etcdutl snapshot restore /\\S+/snapshot\\.db --data-dir ${node.root}/etcd\\.restoring --name ${nodeName} --initial-cluster ${nodeName}=https://10\\.20\\.1\\.20:2380 --initial-advertise-peer-urls https://10\\.20\\.1\\.20:2380$`),
      ),
      GENERATION,
      `kubeadm init phase certs sa --config ${join(node.state, 'kubeadm-init.yaml')}`,
      get(ROTATION),
      ...COMPLETE_HOOK,
      `kubeadm init --config ${join(node.state, 'kubeadm-init.yaml')} --upload-certs --skip-token-print --skip-certificate-key-print --ignore-preflight-errors=DirAvailable--var-lib-etcd`,
      `aws ssm delete-parameter ${REGION} --name /hakube/production/kubeadm/restore-from`,
    ]);
    // Downloaded through the signed URL only: the node's own credentials never read the bucket.
    expect(result.calls.filter((c) => /^aws (s3 (cp|sync)|s3api get-object) /.test(c))).toEqual([]);
    expect(result.calls.filter((c) => c.startsWith('curl -fsS -o')).length).toBe(1);
    expect(node.file(join(node.kube, 'pki', 'ca.key'))).toBe('old pki/ca.key');
    expect(node.file(join(node.kube, 'pki', 'etcd', 'ca.key'))).toBe('old pki/etcd/ca.key');
    expect(readdirSync(join(node.root, 'etcd')).sort()).toEqual(['member', `member.unfinished-${Date.UTC(2025, 5, 30, 12) / 1000}`]);
    expect(readdirSync(join(node.root, 'etcd', 'member'))).toEqual(['snap']);
    expect(node.exists(join(node.root, 'etcd.restoring'))).toBe(false);
  });

  it('records the stage it booted with and its kube-apiserver patch’s SHA-256 at every boot, overwriting its own record; a failed write fails the boot', () => {
    const ssm = mkdtempSync(join(tmpdir(), 'identity-stage-'));
    try {
      const record = `${bootstrapNames(platform.namesOf('production')).identityStageRecords}/i-new`;
      const node = controlPlane(ssmStore(ssm));
      writeFileSync(join(node.state, 'control-plane.done'), '');
      writeFileSync(join(node.state, 'core-addons.done'), '');
      writeFileSync(join(node.kube, 'pki', 'sa.pub'), FAKE_SA_PUB);
      node.writeApiServerManifest();
      const patch = createHash('sha256').update(readFileSync(join(node.etc, 'kubeadm-patches', 'kube-apiserver+json.yaml'))).digest('hex');
      for (const version of [1, 2]) {
        const boot = node.run('control-plane.sh');
        expect(boot.status, boot.stderr).toBe(0);
        // A String written with --overwrite: each boot is a new version of the same value (a create-only put would fail the second boot).
        expect(storedParameter(ssm, record)).toEqual({ value: `stage=${platform.cluster('production').serviceAccountIdentity.stage} config=${patch}`, type: 'String', keyId: '', version });
      }
      node.setRules([awsError(`ssm put-parameter * --name ${record} *`, 'AccessDeniedException'), ...ssmStore(ssm)]);
      const denied = node.run('control-plane.sh');
      expect(denied.status).toBe(1);
      expect(denied.stderr).toContain(`[record-identity-stage] FAILED: recording the identity stage in ${record} failed: An error occurred (AccessDeniedException)`);
    } finally {
      rmSync(ssm, { recursive: true, force: true });
    }
  });

  it('does nothing but make sure the timers run when already part of the control plane (reboot, cloud-init re-run)', () => {
    const node = rebootedControlPlane();
    const result = node.run('control-plane.sh');
    expect(result.status, result.stderr).toBe(0);
    // The issuer documents are published again at every boot (same key, same bytes).
    expect(callsOf(result.calls, 'aws', 'kubeadm', 'etcdctl', 'systemctl').filter((c) => !slotLookup(c))).toEqual([...ISSUER, TIMERS, STAGE_RECORD]);
  });

  it('writes the cloud controller’s provider config at every boot from the host’s IMDS (region, VPC, subnet, cluster id), readable by its non-root uid', () => {
    const node = rebootedControlPlane();
    const result = node.run('control-plane.sh');
    expect(result.status, result.stderr).toBe(0);
    // The env names the file inside kubeadm's directory: the path the DaemonSet mounts (platform-config).
    const file = join(node.kube, CLOUD_CONTROLLER_CONFIG.path.replace('/etc/kubernetes/', ''));
    // With VPC + SubnetID + KubernetesClusterID cloud-provider-aws builds no self instance (no IMDS instance-id); Region: no IMDS region.
    expect(node.file(file)).toBe('[Global]\nRegion = ap-northeast-2\nVPC = vpc-0abc\nSubnetID = subnet-0def\nKubernetesClusterID = production\n');
    expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(result.calls).toContain('curl -fsS -H X-aws-ec2-metadata-token: imds-token http://169.254.169.254/latest/meta-data/network/interfaces/macs/0a:1b:2c:3d:4e:5f/vpc-id');
  });

  it('refuses to join without a live peer and says so', () => {
    const node = controlPlane([
      { cmd: 'aws', args: `ssm put-parameter * --name ${LOCK} *`, exit: 254 },
      { cmd: 'aws', args: `ssm get-parameter * --name ${LOCK} *`, stdout: 'i-first\n' },
      ...joinMaterial,
      { cmd: 'aws', args: 'ec2 describe-instances * --filters *', stdout: 'i-new\t10.20.1.20\n' },
      { cmd: 'aws', args: 'autoscaling describe-auto-scaling-instances *', stdout: '\n' },
    ]);
    const result = node.run('control-plane.sh');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('[remove-stale-etcd-members] FAILED: no live control-plane peer (ASGs:');
    expect(result.calls.some((c) => c.startsWith('kubeadm join --config'))).toBe(false);
  });
});
