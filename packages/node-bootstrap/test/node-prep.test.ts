import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { toolVersions } from '../src/versions';
import { callsOf, FakeNode, inputFor, type Rule } from './harness';

const PREP = ['swapoff', 'modprobe', 'sysctl', 'apt-get', 'apt-mark', 'containerd', 'systemctl', 'dpkg-query', 'curl', 'gpg', 'aws', 'etcdctl', 'sleep'];
/** What every run does, prepared or not: swap off, kernel modules and sysctls. */
const LOCAL_SETTINGS = ['swapoff -a', 'modprobe overlay', 'modprobe br_netfilter', 'sysctl --system'];
const WAIT = '-o DPkg::Lock::Timeout=600';
const tools = toolVersions({ name: 'test', kubernetesVersion: '1.34.1' });
/** Ubuntu 24.04's container runtime as the pins name it: `<upstream>-0ubuntu…`. */
const CONTAINERD = `${tools.containerd}-0ubuntu1~24.04.1`;
const RUNC = `${tools.runc}-0ubuntu1~24.04.2`;
/** A node that is not prepared yet: the pinned containerd and runc, held and checked, then the installed kubeadm's version. */
const CONTAINERD_AND_VERSION_CHECK = [
  `apt-get ${WAIT} update -q`,
  `apt-mark ${WAIT} unhold containerd runc`,
  `apt-get ${WAIT} install -y -q containerd=${tools.containerd}-* runc=${tools.runc}-* apt-transport-https ca-certificates curl gpg unzip`,
  `apt-mark ${WAIT} hold containerd runc`,
  'dpkg-query -W -f=${Version} containerd',
  'dpkg-query -W -f=${Version} runc',
  'containerd config default',
  'systemctl restart containerd',
  'systemctl enable --now containerd',
  'dpkg-query -W -f=${Version} kubeadm',
];
const KUBERNETES_PACKAGES = [
  `apt-get ${WAIT} update -q`,
  `apt-mark ${WAIT} unhold kubelet kubeadm kubectl`,
  `apt-get ${WAIT} install -y -q kubelet=1.34.1-* kubeadm=1.34.1-* kubectl=1.34.1-*`,
  `apt-mark ${WAIT} hold kubelet kubeadm kubectl`,
  ...['kubelet', 'kubeadm', 'kubectl'].map((p) => `dpkg-query -W -f=\${Version} ${p}`),
  'systemctl enable kubelet',
];
const FSTAB = 'UUID=1 / ext4 defaults 0 1\n/swap.img none swap sw 0 0\n# /old none swap sw 0 0\n';
/** What the repositories offer: Ubuntu's release and updates pockets, and pkgs.k8s.io's every 1.34 patch. */
const ARCHIVE = [
  'containerd 1.7.12-0ubuntu4',
  `containerd ${CONTAINERD}`,
  'runc 1.1.12-0ubuntu3',
  `runc ${RUNC}`,
  'apt-transport-https 2.7.14build2',
  'ca-certificates 20240203',
  'curl 8.5.0-2ubuntu10.6',
  'gpg 2.4.4-2ubuntu17.3',
  'unzip 6.0-28ubuntu4.1',
  ...['kubelet', 'kubeadm', 'kubectl'].flatMap((p) => ['1.34.0-1.1', '1.34.1-1.1', '1.34.2-1.1'].map((v) => `${p} ${v}`)),
];
const MODEL = join(__dirname, 'fakes', 'apt.sh');

const nodes: FakeNode[] = [];
afterEach(() => nodes.splice(0).forEach((n) => rmSync(n.root, { recursive: true, force: true })));

interface AptState {
  /** Seconds after boot at which apt-daily's list refresh releases the package lists lock. */
  readonly listsLockedUntil?: number;
  /** Seconds after boot at which unattended-upgrades releases the dpkg lock. */
  readonly dpkgLockedUntil?: number;
  readonly archive?: readonly string[];
  readonly installed?: Readonly<Record<string, string>>;
  readonly held?: readonly string[];
}

/** A node whose /etc lives under <root>/sysroot (SYSROOT), with the directories an Ubuntu image has, and apt modelled by fakes/apt.sh. */
function prepNode(role: 'control-plane' | 'worker', apt: AptState = {}, rules: Rule[] = []) {
  const node = new FakeNode(inputFor('production', role), [
    ...rules,
    ...['apt-get', 'apt-mark', 'dpkg-query', 'sleep'].map((cmd): Rule => ({ cmd, args: '*', run: `. '${MODEL}' ${cmd} "$@"` })),
    { cmd: 'dpkg', args: '--print-architecture', stdout: 'amd64\n' },
    { cmd: 'containerd', args: 'config default', stdout: '[plugins]\n  SystemdCgroup = false\n' },
    { cmd: 'aws', args: '--version', stdout: 'aws-cli/2.27.0 Python/3.13.2 Linux/6.8.0 exe/x86_64.ubuntu.24\n' },
    { cmd: 'etcdctl', args: 'version', stdout: 'etcdctl version: 3.6.5\nAPI version: 3.6\n' },
    { cmd: 'curl', args: '*/Release.key', stdout: 'signing key\n' },
    { cmd: 'gpg', args: '--dearmor --yes -o *', run: 'cat <&3 >"$4"' },
  ]);
  nodes.push(node);
  const aptDir = join(node.fakeDir, 'apt');
  for (const dir of ['installed', 'held']) mkdirSync(join(aptDir, dir), { recursive: true });
  writeFileSync(join(aptDir, 'archive'), `${(apt.archive ?? ARCHIVE).join('\n')}\n`);
  if (apt.listsLockedUntil !== undefined) writeFileSync(join(aptDir, 'lists-until'), String(apt.listsLockedUntil));
  if (apt.dpkgLockedUntil !== undefined) writeFileSync(join(aptDir, 'dpkg-until'), String(apt.dpkgLockedUntil));
  for (const [name, version] of Object.entries(apt.installed ?? {})) writeFileSync(join(aptDir, 'installed', name), version);
  for (const name of apt.held ?? []) writeFileSync(join(aptDir, 'held', name), '');
  const sysroot = join(node.root, 'sysroot');
  for (const dir of ['etc/modules-load.d', 'etc/sysctl.d', 'etc/apt/sources.list.d']) mkdirSync(join(sysroot, dir), { recursive: true });
  writeFileSync(join(sysroot, 'etc', 'fstab'), FSTAB);
  const run = () => node.run('node-prep.sh', [], { SYSROOT: sysroot });
  const file = (path: string) => readFileSync(join(sysroot, path), 'utf8');
  const packages = () => Object.fromEntries(readdirSync(join(aptDir, 'installed')).map((p) => [p, readFileSync(join(aptDir, 'installed', p), 'utf8').trim()]));
  const held = () => readdirSync(join(aptDir, 'held')).sort();
  const clock = () => Number(readFileSync(join(aptDir, 'clock'), 'utf8'));
  return { node, sysroot, run, file, packages, held, clock };
}

/** The pinned versions of a prepared node. */
const PREPARED = { containerd: CONTAINERD, runc: RUNC, kubelet: '1.34.1-1.1', kubeadm: '1.34.1-1.1', kubectl: '1.34.1-1.1' };
const MARKER = `kubernetes=1.34.1 containerd=${tools.containerd} runc=${tools.runc} aws-cli=2.27.0`;

describe('node-prep.sh', () => {
  it('turns swap off, loads the modules and sysctls, and installs the pinned containerd, runc and kubeadm/kubelet/kubectl, held', () => {
    const { sysroot, run, file, packages, held } = prepNode('worker');
    const result = run();
    expect(result.status, result.stderr).toBe(0);
    const calls = callsOf(result.calls, ...PREP);
    const at = CONTAINERD_AND_VERSION_CHECK.length + LOCAL_SETTINGS.length;
    // curl | gpg run at the same time: either may log first.
    const keyFetch = calls.slice(at, at + 2).sort();
    expect(keyFetch).toEqual(['curl -fsSL https://pkgs.k8s.io/core:/stable:/v1.34/deb/Release.key', `gpg --dearmor --yes -o ${sysroot}/etc/apt/keyrings/kubernetes-apt-keyring.gpg`]);
    expect([...calls.slice(0, at), ...calls.slice(at + 2)]).toEqual([...LOCAL_SETTINGS, ...CONTAINERD_AND_VERSION_CHECK, ...KUBERNETES_PACKAGES, 'aws --version']);
    expect(packages()).toMatchObject(PREPARED);
    expect(held()).toEqual(['containerd', 'kubeadm', 'kubectl', 'kubelet', 'runc']);
    expect(file('etc/fstab')).toBe('UUID=1 / ext4 defaults 0 1\n#/swap.img none swap sw 0 0\n# /old none swap sw 0 0\n');
    expect(file('etc/modules-load.d/kubernetes.conf')).toBe('overlay\nbr_netfilter\n');
    expect(file('etc/sysctl.d/90-kubernetes.conf')).toBe('net.ipv4.ip_forward = 1\nnet.bridge.bridge-nf-call-iptables = 1\nnet.bridge.bridge-nf-call-ip6tables = 1\n');
    expect(file('etc/containerd/config.toml')).toBe('[plugins]\n  SystemdCgroup = true\n');
    expect(file('etc/apt/keyrings/kubernetes-apt-keyring.gpg')).toBe('signing key\n');
    expect(file('etc/apt/sources.list.d/kubernetes.list')).toBe('deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v1.34/deb/ /\n');
  });

  it('waits for unattended-upgrades to release the dpkg lock on a first boot instead of failing', () => {
    // Four minutes of security updates from an older image: longer than 5 tries 10 s apart.
    const { run, packages, clock } = prepNode('worker', { dpkgLockedUntil: 240 });
    const result = run();
    expect(result.status, result.stderr).toBe(0);
    expect(clock()).toBe(240);
    // The first call that needs the dpkg lock waited for it: no failed attempt, no retry.
    expect(callsOf(result.calls, 'apt-get', 'apt-mark', 'sleep').slice(0, 3)).toEqual([`apt-get ${WAIT} update -q`, `apt-mark ${WAIT} unhold containerd runc`, `apt-get ${WAIT} install -y -q containerd=${tools.containerd}-* runc=${tools.runc}-* apt-transport-https ca-certificates curl gpg unzip`]);
    expect(result.calls).not.toContain('sleep 10');
    expect(packages()).toMatchObject(PREPARED);
  });

  it('retries apt-get update while apt-daily refreshes the package lists (a lock the timeout does not cover)', () => {
    // One minute of list refresh, then unattended-upgrades: the usual first boot.
    const { run, packages, clock } = prepNode('worker', { listsLockedUntil: 60, dpkgLockedUntil: 300 });
    const result = run();
    expect(result.status, result.stderr).toBe(0);
    expect(callsOf(result.calls, 'apt-get', 'sleep').slice(0, 13)).toEqual([...Array.from({ length: 6 }, () => [`apt-get ${WAIT} update -q`, 'sleep 10']).flat(), `apt-get ${WAIT} update -q`]);
    expect(result.stderr).toContain('E: Could not get lock /var/lib/apt/lists/lock. It is held by process 1873 (apt-get)');
    expect(clock()).toBe(300);
    expect(packages()).toMatchObject(PREPARED);
  });

  it('apt as modelled: without a lock timeout a call fails at once while unattended-upgrades runs', () => {
    const { node, clock } = prepNode('worker', { dpkgLockedUntil: 240 });
    const bare = node.run('../fake/bin/apt-get', ['install', '-y', 'curl']);
    expect(bare.status).toBe(100);
    expect(bare.stderr).toContain('E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 2714 (unattended-upgr)');
    const waited = node.run('../fake/bin/apt-get', ['-o', 'DPkg::Lock::Timeout=60', 'install', '-y', 'curl']);
    expect(waited.status).toBe(100);
    expect(clock()).toBe(60);
  });

  it('fails naming the pin when the archive no longer offers it, and installs nothing unpinned', () => {
    // Ubuntu's SRU moved noble-updates to a new containerd: the pinned version is gone from the index.
    const archive = ARCHIVE.filter((l) => !l.startsWith(`containerd ${tools.containerd}`)).concat('containerd 2.1.5-0ubuntu1~24.04.1');
    const { run, packages } = prepNode('worker', { archive });
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `[containerd] FAILED: installing containerd ${tools.containerd} and runc ${tools.runc} failed (no longer in the archive? the pins are in node-bootstrap src/versions.ts)`,
    );
    expect(result.stderr).toContain(`E: Version '${tools.containerd}-*' for 'containerd' was not found`);
    expect(packages().containerd).toBeUndefined();
  });

  it('skips apt and downloads on a prepared node (reboot): only the local swap and kernel settings are re-applied', () => {
    const { node, run, file } = prepNode('control-plane');
    expect(run().status).toBe(0);
    expect(node.file(join(node.state, 'node-prep.done'))).toBe(`${MARKER} etcd=3.6.5\n`);
    const fstab = file('etc/fstab');
    const again = run();
    expect(again.status, again.stderr).toBe(0);
    expect(callsOf(again.calls, ...PREP)).toEqual([
      ...LOCAL_SETTINGS,
      // The pinned versions are still what is installed.
      'dpkg-query -W -f=${Version} containerd',
      'dpkg-query -W -f=${Version} runc',
      'dpkg-query -W -f=${Version} kubeadm',
      'aws --version',
      'etcdctl version',
    ]);
    expect(again.stderr).toContain(`node-bootstrap-prepare [check-prepared] node already prepared (${MARKER} etcd=3.6.5)`);
    expect(file('etc/fstab')).toBe(fstab);
    expect(fstab).toContain('\n#/swap.img none swap sw 0 0\n');
  });

  it('moves held packages to new pins: unhold, install the pinned versions, hold again', () => {
    const { node, run, packages, held } = prepNode('worker', {
      installed: { ...PREPARED, containerd: '1.7.12-0ubuntu4', runc: '1.1.12-0ubuntu3' },
      held: ['containerd', 'runc', 'kubelet', 'kubeadm', 'kubectl'],
    });
    writeFileSync(join(node.state, 'node-prep.done'), 'kubernetes=1.34.1 containerd=1.7.12 runc=1.1.12 aws-cli=2.27.0 etcd=none\n');
    const result = run();
    expect(result.status, result.stderr).toBe(0);
    // kubeadm is current: no reinstall of the Kubernetes packages.
    expect(callsOf(result.calls, ...PREP)).toEqual([...LOCAL_SETTINGS, ...CONTAINERD_AND_VERSION_CHECK, 'aws --version']);
    expect(packages()).toMatchObject({ containerd: CONTAINERD, runc: RUNC });
    expect(held()).toEqual(['containerd', 'kubeadm', 'kubectl', 'kubelet', 'runc']);
    expect(node.file(join(node.state, 'node-prep.done'))).toBe(`${MARKER} etcd=none\n`);
  });

  it('prepares again when the marker is there but kubeadm is not the pinned version', () => {
    const { node, run, packages } = prepNode('worker', { installed: { ...PREPARED, kubeadm: '1.33.5-1.1', kubelet: '1.33.5-1.1', kubectl: '1.33.5-1.1' } });
    writeFileSync(join(node.state, 'node-prep.done'), `${MARKER} etcd=none\n`);
    const result = run();
    expect(result.status, result.stderr).toBe(0);
    expect(result.calls).toContain(`apt-get ${WAIT} install -y -q kubelet=1.34.1-* kubeadm=1.34.1-* kubectl=1.34.1-*`);
    expect(packages()).toMatchObject(PREPARED);
  });

  it('fails naming the step when the pinned packages cannot be installed', () => {
    const { run } = prepNode('worker', { archive: ARCHIVE.filter((l) => !l.includes(' 1.34.1-')) });
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('node-bootstrap-prepare [kubernetes-packages] FAILED: installing kubelet/kubeadm/kubectl 1.34.1 failed');
    expect(callsOf(result.calls, 'apt-get').filter((c) => c.startsWith(`apt-get ${WAIT} install -y -q kubelet=`))).toHaveLength(5);
  });
});
