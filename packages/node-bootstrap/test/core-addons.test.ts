import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORE_ADDONS, FLUX_INSTANCE_NAMES } from '@platform/core-addons';
import { describe, expect, it } from 'vitest';
import { callsOf, inputFor, scratch, type Rule } from './harness';

const MODEL = join(__dirname, 'fakes', 'cluster.sh');
const RELEASES = [['kube-system', 'cilium'], ['kube-system', 'aws-cloud-controller-manager'], [FLUX_INSTANCE_NAMES.namespace, 'flux-operator']] as const;
const LEASE = 'objects/leases.coordination.k8s.io/kube-system/core-addons';
const NOW = Date.UTC(2025, 5, 30, 12) / 1000;
const INSTALLS = RELEASES.map(([, name]) => `install ${name}`);

const temporary = scratch();

/** One cluster's API server and Helm storage (fakes/cluster.sh), shared by the nodes of a test. */
function cluster() {
  const dir = temporary.dir('cluster-');
  const path = (p: string) => join(dir, p);
  const put = (p: string, content: string) => (mkdirSync(join(path(p), '..'), { recursive: true }), writeFileSync(path(p), content));
  return {
    dir,
    release: (namespace: string, name: string, status: string, version = '1.0.0', revision = 1) => put(`releases/${namespace}/${name}`, `${status} ${revision} ${version}\n`),
    state: (namespace: string, name: string) => (existsSync(path(`releases/${namespace}/${name}`)) ? readFileSync(path(`releases/${namespace}/${name}`), 'utf8').trim() : 'absent'),
    helmLog: () => (existsSync(path('helm.log')) ? readFileSync(path('helm.log'), 'utf8').split('\n').filter(Boolean) : []),
    /** Flux runs: its CRDs exist, a HelmRelease per release and the FluxInstance it manages itself. */
    fluxRuns: () => {
      for (const crd of ['helmreleases.helm.toolkit.fluxcd.io', 'fluxinstances.fluxcd.controlplane.io']) put(`crds/${crd}`, '');
      for (const [namespace, name] of RELEASES) put(`objects/helmreleases.helm.toolkit.fluxcd.io/${namespace}/${name}`, `kind: HelmRelease\n  name: ${name}\n`);
      put(`objects/fluxinstances.fluxcd.controlplane.io/${FLUX_INSTANCE_NAMES.namespace}/${FLUX_INSTANCE_NAMES.name}`, 'kind: FluxInstance\n');
    },
    lease: (holder: string, renewTime: string) => {
      put(LEASE, `kind: Lease\nmetadata:\n  name: core-addons\n  namespace: kube-system\nspec:\n  holderIdentity: ${holder}\n  leaseDurationSeconds: 900\n  renewTime: ${renewTime}\n`);
      put(`${LEASE}.rv`, '7');
    },
    leaseHeld: () => existsSync(path(LEASE)),
    fluxInstance: () => existsSync(path(`objects/fluxinstances.fluxcd.controlplane.io/${FLUX_INSTANCE_NAMES.namespace}/${FLUX_INSTANCE_NAMES.name}`)),
  };
}
type Cluster = ReturnType<typeof cluster>;

/** A control-plane node `id` talking to `c` through kubectl and helm. */
function controlPlane(id: string, c: Cluster, rules: Rule[] = []) {
  const node = temporary.node(inputFor('production', 'control-plane'), [
    ...rules,
    ...['kubectl', 'helm'].map((cmd): Rule => ({ cmd, args: '*', run: `. '${MODEL}' ${cmd} "$@"` })),
    { cmd: 'curl', args: '*meta-data/instance-id', stdout: id },
    // Waiting takes time: the node holding the lease gets on meanwhile.
    { cmd: 'sleep', args: '*', run: '/bin/sleep 0.05' },
    { cmd: 'aws', args: 'ssm get-parameter * --name /hakube/production/flux/git-credentials *', stdout: 'github_pat_x\n' },
  ]);
  writeFileSync(join(node.kube, 'admin.conf'), '');
  const env = { CLUSTER_STATE: c.dir, NODE: id };
  return { node, install: (extra: Record<string, string> = {}) => node.runAsync('install-addons.sh', [], { ...env, ...extra }), run: (script: string) => node.run(script, [], env) };
}

const deployedAll = (c: Cluster) => RELEASES.map(([ns, name]) => c.state(ns, name).split(' ')[0]);

describe('install-addons.sh on every control-plane node: the core add-ons exactly once', () => {
  it('installs everything on the first node that finds it missing, under the lease, and creates the FluxInstance', async () => {
    const c = cluster();
    const result = await controlPlane('i-b', c).install();
    expect(result.status, result.stderr).toBe(0);
    expect(c.helmLog()).toEqual(INSTALLS.map((op) => `i-b ${op}`));
    expect(deployedAll(c)).toEqual(['deployed', 'deployed', 'deployed']);
    expect(c.state('kube-system', 'cilium')).toBe(`deployed 1 ${CORE_ADDONS.cilium.version}`);
    expect(c.fluxInstance()).toBe(true);
    expect(c.leaseHeld()).toBe(false);
    expect(callsOf(result.calls, 'systemctl')).toEqual(['systemctl start --no-block ci-kubeconfig.service']);
  });

  it('two nodes finding the add-ons missing at the same moment: one installs, the other waits and finds them deployed', async () => {
    const c = cluster();
    // Each install lasts until the other node has read the lease: the second node is still checking
    // while the first holds it, however late a loaded machine starts it.
    const results = await Promise.all(['i-b', 'i-c'].map((id) => controlPlane(id, c).install({ HELM_WORK_SECONDS: '0.2', HELM_HOLD_FOR_PEER: '1' })));
    for (const r of results) expect(r.status, r.stderr).toBe(0);
    const installer = c.helmLog()[0].split(' ')[0];
    expect(c.helmLog()).toEqual(INSTALLS.map((op) => `${installer} ${op}`));
    expect(deployedAll(c)).toEqual(['deployed', 'deployed', 'deployed']);
    const waiter = results.find((r) => !r.calls.some((call) => call.startsWith('helm upgrade')));
    expect(waiter?.stderr).toContain(`add-ons being installed by ${installer} (lease kube-system/core-addons); waiting`);
    expect(c.leaseHeld()).toBe(false);
  });

  it('without the lease two installs of one release collide, as Helm does', async () => {
    const c = cluster();
    const [a, b] = ['i-b', 'i-c'].map((id) => controlPlane(id, c));
    const helm = (n: typeof a) => n.node.runAsync('../fake/bin/helm', ['upgrade', '--install', 'cilium', '--repo', 'r', 'cilium', '--version', '1.18.2', '--namespace', 'kube-system'], { CLUSTER_STATE: c.dir });
    const results = await Promise.all([helm(a), helm(b)]);
    expect(results.map((r) => r.status).sort()).toEqual([0, 1]);
    expect(results.find((r) => r.status === 1)?.stderr).toContain('Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress');
  });

  it('finishes what an initialiser that died mid-install left: takes over its expired lease, repairs the pending release', async () => {
    const c = cluster();
    c.lease('i-dead', '2025-06-30T11:40:00.000000Z');
    c.release('kube-system', 'cilium', 'pending-install', CORE_ADDONS.cilium.version);
    const result = await controlPlane('i-b', c).install();
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain('took over the add-on lease from i-dead');
    expect(c.helmLog()).toEqual(['i-b uninstall cilium', ...INSTALLS.map((op) => `i-b ${op}`)]);
    expect(deployedAll(c)).toEqual(['deployed', 'deployed', 'deployed']);
  });

  it('rolls back an interrupted upgrade before upgrading, and upgrades a failed release', async () => {
    const c = cluster();
    c.release('kube-system', 'cilium', 'pending-upgrade', CORE_ADDONS.cilium.version, 2);
    c.release('kube-system', 'aws-cloud-controller-manager', 'failed', CORE_ADDONS.awsCloudController.version);
    const result = await controlPlane('i-b', c).install();
    expect(result.status, result.stderr).toBe(0);
    expect(c.helmLog()).toEqual(['i-b rollback cilium', ...INSTALLS.map((op) => `i-b ${op}`)]);
    expect(deployedAll(c)).toEqual(['deployed', 'deployed', 'deployed']);
  });

  it('waits while a live node holds the lease, and fails naming it when it never frees it', async () => {
    const c = cluster();
    c.lease('i-a', new Date(NOW * 1000).toISOString().replace('Z', '000Z'));
    const n = controlPlane('i-b', c);
    const result = await n.node.runAsync('install-addons.sh', [], { CLUSTER_STATE: c.dir, NODE: 'i-b', ADDON_LOCK_WAIT_ATTEMPTS: '3' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('[addon-lease] FAILED: add-on lease kube-system/core-addons still held by i-a after 3 attempts');
    expect(c.helmLog()).toEqual([]);
  });

  it('a node joining after Flux took over changes nothing: no older chart over Flux\'s upgrade, no lease, no FluxInstance', async () => {
    const c = cluster();
    c.fluxRuns();
    c.release('kube-system', 'cilium', 'deployed', '1.19.1', 6);
    c.release('kube-system', 'aws-cloud-controller-manager', 'deployed', '0.0.11', 3);
    c.release(FLUX_INSTANCE_NAMES.namespace, 'flux-operator', 'deployed', '0.40.0', 4);
    const result = await controlPlane('i-d', c).install();
    expect(result.status, result.stderr).toBe(0);
    expect(c.helmLog()).toEqual([]);
    expect(c.state('kube-system', 'cilium')).toBe('deployed 6 1.19.1');
    expect(callsOf(result.calls, 'kubectl').filter((call) => /^kubectl (create|replace|apply|delete)/.test(call))).toEqual([]);
    expect(result.calls).not.toContain('systemctl start --no-block ci-kubeconfig.service');
    expect(result.stderr).toContain(`fluxinstance.fluxcd.controlplane.io/${FLUX_INSTANCE_NAMES.name} exists: Flux manages itself`);
  });

  it('leaves a release Flux manages to Flux, even when it failed', async () => {
    const c = cluster();
    c.fluxRuns();
    c.release('kube-system', 'cilium', 'failed', '1.19.1', 7);
    c.release('kube-system', 'aws-cloud-controller-manager', 'deployed');
    c.release(FLUX_INSTANCE_NAMES.namespace, 'flux-operator', 'deployed');
    const result = await controlPlane('i-d', c).install();
    expect(result.status, result.stderr).toBe(0);
    expect(c.helmLog()).toEqual([]);
    expect(result.stderr).not.toContain('lease');
  });

  it('fails instead of installing when Helm cannot read the releases', async () => {
    const c = cluster();
    const result = await controlPlane('i-b', c, [{ cmd: 'helm', args: 'list *', exit: 1, run: 'echo "Error: Kubernetes cluster unreachable" >&2' }]).install();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('FAILED: cannot read the state of release cilium');
    expect(c.helmLog()).toEqual([]);
  });
});

describe('control-plane.sh: the add-ons after joining', () => {
  const LOCK = '/hakube/production/kubeadm/init-lock';
  const joined: Rule[] = [
    { cmd: 'aws', args: `ssm put-parameter * --name ${LOCK} *`, exit: 254 },
    { cmd: 'aws', args: `ssm get-parameter * --name ${LOCK} *`, stdout: 'i-first\n' },
    { cmd: 'aws', args: 'ssm get-parameter * --name /hakube/production/kubeadm/join-token *', stdout: 'abcdef.0123456789abcdef\n' },
    { cmd: 'aws', args: 'ssm get-parameter * --name /hakube/production/kubeadm/ca-cert-hash *', stdout: 'sha256:feed\n' },
    { cmd: 'aws', args: 'ssm get-parameter * --name /hakube/production/kubeadm/certificate-key *', stdout: `${'a'.repeat(64)}\n` },
    // No restore requested: SSM answers ParameterNotFound for a name never written (a join reads it first).
    { cmd: 'aws', args: 'ssm get-parameter * --name /hakube/production/kubeadm/restore-from *', exit: 254, run: 'echo "An error occurred (ParameterNotFound) when calling the GetParameter operation: " >&2' },
    { cmd: 'aws', args: 'ec2 describe-instances * --filters *', stdout: 'i-a\t10.20.0.10\ni-new\t10.20.1.20\n' },
    { cmd: 'aws', args: 'autoscaling describe-auto-scaling-instances *', stdout: '\n' },
    { cmd: 'etcdctl', args: '*member list*', stdout: 'aa, started, a, https://10.20.0.10:2380, x, false\n' },
  ];

  it('the initialiser died after publishing the join material: the joining node installs the CNI, cloud controller and Flux', () => {
    const c = cluster();
    const { node, run } = controlPlane('i-new', c, joined);
    const result = run('control-plane.sh');
    expect(result.status, result.stderr).toBe(0);
    expect(result.calls).toContain(`kubeadm join --config ${join(node.state, 'kubeadm-join.yaml')} --skip-phases control-plane-prepare/download-certs`);
    expect(c.helmLog()).toEqual(INSTALLS.map((op) => `i-new ${op}`));
    expect(c.fluxInstance()).toBe(true);
    // etcd-slot: this account has no etcd volume for it, so it joined on the root disk for life (fallback).
    // service-account-keys.applied: the key set kube-apiserver started with (the rotation timer's first apply restarts nothing).
    expect(readdirSync(node.state).sort()).toEqual(['control-plane.done', 'core-addons.done', 'etcd-slot', 'kubeadm-join.yaml', 'service-account-keys.applied']);
    // After a reboot the node checks no more.
    const again = run('control-plane.sh');
    expect(again.status, again.stderr).toBe(0);
    expect(callsOf(again.calls, 'helm', 'kubectl')).toEqual([]);
  });

  it('a failed add-on check fails the bootstrap (the unit retries it) without joining again', () => {
    const c = cluster();
    const { node, run } = controlPlane('i-new', c, [{ cmd: 'helm', args: 'list *', exit: 1, times: 1 }, ...joined]);
    expect(run('control-plane.sh').status).toBe(1);
    expect(existsSync(join(node.state, 'control-plane.done'))).toBe(true);
    const retried = run('control-plane.sh');
    expect(retried.status, retried.stderr).toBe(0);
    expect(retried.calls.some((call) => call.startsWith('kubeadm'))).toBe(false);
    expect(c.helmLog()).toEqual(INSTALLS.map((op) => `i-new ${op}`));
  });
});
