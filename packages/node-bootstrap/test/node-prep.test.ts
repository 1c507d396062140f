import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { callsOf, FakeNode, inputFor, type Rule } from './harness';

const PREP = ['swapoff', 'modprobe', 'sysctl', 'apt-get', 'apt-mark', 'containerd', 'systemctl', 'dpkg-query', 'curl', 'gpg', 'aws', 'etcdctl'];
/** What every run does, prepared or not: swap off, kernel modules and sysctls. */
const LOCAL_SETTINGS = ['swapoff -a', 'modprobe overlay', 'modprobe br_netfilter', 'sysctl --system'];
/** A node that is not prepared yet: containerd from apt, then the installed kubeadm's version. */
const CONTAINERD_AND_VERSION_CHECK = [
  'apt-get update -q',
  'apt-get install -y -q containerd apt-transport-https ca-certificates curl gpg unzip',
  'containerd config default',
  'systemctl restart containerd',
  'systemctl enable --now containerd',
  'dpkg-query -W -f=${Version} kubeadm',
];
const FSTAB = 'UUID=1 / ext4 defaults 0 1\n/swap.img none swap sw 0 0\n# /old none swap sw 0 0\n';

const nodes: FakeNode[] = [];
afterEach(() => nodes.splice(0).forEach((n) => rmSync(n.root, { recursive: true, force: true })));

/** A node whose /etc lives under <root>/sysroot (SYSROOT), with the directories an Ubuntu image has. */
function prepNode(role: 'control-plane' | 'worker', rules: Rule[]) {
  const node = new FakeNode(inputFor('production', role), [
    ...rules,
    { cmd: 'dpkg', args: '--print-architecture', stdout: 'amd64\n' },
    { cmd: 'containerd', args: 'config default', stdout: '[plugins]\n  SystemdCgroup = false\n' },
    { cmd: 'aws', args: '--version', stdout: 'aws-cli/2.27.0 Python/3.13.2 Linux/6.8.0 exe/x86_64.ubuntu.24\n' },
    { cmd: 'etcdctl', args: 'version', stdout: 'etcdctl version: 3.6.5\nAPI version: 3.6\n' },
    { cmd: 'curl', args: '*/Release.key', stdout: 'signing key\n' },
    { cmd: 'gpg', args: '--dearmor --yes -o *', run: 'cat <&3 >"$4"' },
  ]);
  nodes.push(node);
  const sysroot = join(node.root, 'sysroot');
  for (const dir of ['etc/modules-load.d', 'etc/sysctl.d', 'etc/apt/sources.list.d']) mkdirSync(join(sysroot, dir), { recursive: true });
  writeFileSync(join(sysroot, 'etc', 'fstab'), FSTAB);
  const run = () => node.run('node-prep.sh', [], { SYSROOT: sysroot });
  const file = (path: string) => readFileSync(join(sysroot, path), 'utf8');
  return { node, sysroot, run, file };
}

describe('node-prep.sh', () => {
  it('turns swap off, loads the modules and sysctls, and installs containerd and the pinned kubeadm/kubelet/kubectl', () => {
    const { sysroot, run, file } = prepNode('worker', [{ cmd: 'dpkg-query', args: '*kubeadm', exit: 1 }]);
    const result = run();
    expect(result.status, result.stderr).toBe(0);
    const calls = callsOf(result.calls, ...PREP);
    // curl | gpg run at the same time: either may log first.
    const keyFetch = calls.slice(10, 12).sort();
    expect(keyFetch).toEqual(['curl -fsSL https://pkgs.k8s.io/core:/stable:/v1.34/deb/Release.key', `gpg --dearmor --yes -o ${sysroot}/etc/apt/keyrings/kubernetes-apt-keyring.gpg`]);
    expect([...calls.slice(0, 10), ...keyFetch, ...calls.slice(12)]).toEqual([
      ...LOCAL_SETTINGS,
      ...CONTAINERD_AND_VERSION_CHECK,
      'curl -fsSL https://pkgs.k8s.io/core:/stable:/v1.34/deb/Release.key',
      `gpg --dearmor --yes -o ${sysroot}/etc/apt/keyrings/kubernetes-apt-keyring.gpg`,
      'apt-get update -q',
      'apt-mark unhold kubelet kubeadm kubectl',
      'apt-get install -y -q kubelet=1.34.1-* kubeadm=1.34.1-* kubectl=1.34.1-*',
      'apt-mark hold kubelet kubeadm kubectl',
      'systemctl enable kubelet',
      'aws --version',
    ]);
    expect(file('etc/fstab')).toBe('UUID=1 / ext4 defaults 0 1\n#/swap.img none swap sw 0 0\n# /old none swap sw 0 0\n');
    expect(file('etc/modules-load.d/kubernetes.conf')).toBe('overlay\nbr_netfilter\n');
    expect(file('etc/sysctl.d/90-kubernetes.conf')).toBe('net.ipv4.ip_forward = 1\nnet.bridge.bridge-nf-call-iptables = 1\nnet.bridge.bridge-nf-call-ip6tables = 1\n');
    expect(file('etc/containerd/config.toml')).toBe('[plugins]\n  SystemdCgroup = true\n');
    expect(file('etc/apt/keyrings/kubernetes-apt-keyring.gpg')).toBe('signing key\n');
    expect(file('etc/apt/sources.list.d/kubernetes.list')).toBe(
      'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v1.34/deb/ /\n',
    );
  });

  it('skips apt and downloads on a prepared node (reboot): only the local swap and kernel settings are re-applied', () => {
    const { node, run, file } = prepNode('control-plane', [{ cmd: 'dpkg-query', args: '*kubeadm', stdout: '1.34.1-1.1' }]);
    expect(run().status).toBe(0);
    expect(node.file(join(node.state, 'node-prep.done'))).toBe('kubernetes=1.34.1 aws-cli=2.27.0 etcd=3.6.5\n');
    const fstab = file('etc/fstab');
    const again = run();
    expect(again.status, again.stderr).toBe(0);
    expect(callsOf(again.calls, ...PREP)).toEqual([
      ...LOCAL_SETTINGS,
      // The pinned versions are still what is installed.
      'dpkg-query -W -f=${Version} kubeadm',
      'aws --version',
      'etcdctl version',
    ]);
    expect(again.stderr).toContain('node-bootstrap-prepare [check-prepared] node already prepared (kubernetes=1.34.1 aws-cli=2.27.0 etcd=3.6.5)');
    expect(file('etc/fstab')).toBe(fstab);
    expect(fstab).toContain('\n#/swap.img none swap sw 0 0\n');
  });

  it('prepares again when the pinned versions changed since the marker was written (no reinstall of what is current)', () => {
    const { node, run } = prepNode('worker', [{ cmd: 'dpkg-query', args: '*kubeadm', stdout: '1.34.1-1.1' }]);
    writeFileSync(join(node.state, 'node-prep.done'), 'kubernetes=1.33.5 aws-cli=2.27.0 etcd=none\n');
    const result = run();
    expect(result.status, result.stderr).toBe(0);
    expect(callsOf(result.calls, ...PREP)).toEqual([
      ...LOCAL_SETTINGS,
      ...CONTAINERD_AND_VERSION_CHECK,
      'aws --version',
    ]);
    expect(node.file(join(node.state, 'node-prep.done'))).toBe('kubernetes=1.34.1 aws-cli=2.27.0 etcd=none\n');
  });

  it('prepares again when the marker is there but kubeadm is not the pinned version', () => {
    const { node, run } = prepNode('worker', [{ cmd: 'dpkg-query', args: '*kubeadm', stdout: '1.33.5-1.1' }]);
    writeFileSync(join(node.state, 'node-prep.done'), 'kubernetes=1.34.1 aws-cli=2.27.0 etcd=none\n');
    const result = run();
    expect(result.status, result.stderr).toBe(0);
    expect(result.calls).toContain('apt-get install -y -q kubelet=1.34.1-* kubeadm=1.34.1-* kubectl=1.34.1-*');
  });

  it('fails naming the step when the pinned packages cannot be installed', () => {
    const { run } = prepNode('worker', [
      { cmd: 'dpkg-query', args: '*kubeadm', exit: 1 },
      { cmd: 'apt-get', args: 'install -y -q kubelet=*', exit: 100 },
    ]);
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('node-bootstrap-prepare [kubernetes-packages] FAILED: installing kubelet/kubeadm/kubectl 1.34.1 failed');
    expect(callsOf(result.calls, 'apt-get').filter((c) => c.startsWith('apt-get install -y -q kubelet='))).toHaveLength(5);
  });
});
