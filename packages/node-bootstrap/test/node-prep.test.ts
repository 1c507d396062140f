import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { DOWNLOAD_LOCK, DOWNLOAD_PINS_FILE, downloadPinsFile } from '../src/download-lock';
import { imageBakeScript } from '../src/image-bake';
import { toolVersions } from '../src/versions';
import { callsOf, FakeNode, inputFor, type Rule } from './harness';
import { IMDS_FENCE, ServiceAccountIdentity } from '@platform/platform-config';
import { CLOUD_CONTROLLER_UID } from '@platform/core-addons';

const PREP = ['swapoff', 'modprobe', 'sysctl', 'apt-get', 'apt-mark', 'containerd', 'systemctl', 'dpkg-query', 'curl', 'gpg', 'aws', 'etcdctl', 'helm', 'sleep'];
/** What every run does, prepared or not: swap off, kernel modules and sysctls. */
const LOCAL_SETTINGS = ['swapoff -a', 'modprobe overlay', 'modprobe br_netfilter', 'sysctl --system'];
/** The IMDS fence's slice on a first boot (its iptables calls are asserted in their own tests). */
const FENCE_SLICE = ['systemctl daemon-reload', 'systemctl start kubepods.slice'];
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
const NETFILTER = join(__dirname, 'fakes', 'netfilter.sh');

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
function prepNode(role: 'control-plane' | 'worker', apt: AptState = {}, rules: Rule[] = [], releaseKey = DOWNLOAD_LOCK['kubernetes-apt-key'].fingerprint, input = inputFor('production', role)) {
  const node = new FakeNode(input, [
    ...rules,
    ...['apt-get', 'apt-mark', 'dpkg-query', 'sleep'].map((cmd): Rule => ({ cmd, args: '*', run: `. '${MODEL}' ${cmd} "$@"` })),
    ...['iptables', 'ip6tables'].map((cmd): Rule => ({ cmd, args: '*', run: `. '${NETFILTER}' ${cmd} "$@"` })),
    { cmd: 'systemctl', args: 'start *.slice', run: `. '${NETFILTER}' systemctl "$@"` },
    { cmd: 'dpkg', args: '--print-architecture', stdout: 'amd64\n' },
    { cmd: 'containerd', args: 'config default', stdout: '[plugins]\n  SystemdCgroup = false\n' },
    { cmd: 'aws', args: '--version', stdout: `aws-cli/${tools.awsCli} Python/3.13.2 Linux/6.8.0 exe/x86_64.ubuntu.24\n` },
    { cmd: 'etcdctl', args: 'version', stdout: 'etcdctl version: 3.6.5\nAPI version: 3.6\n' },
    { cmd: 'helm', args: 'version --short', stdout: `v${tools.helm}+ge4722a7\n` },
    // The key pkgs.k8s.io serves; the fake gpg reports a key file's content as its fingerprint.
    { cmd: 'curl', args: '-fsSL -o * */Release.key', run: `printf '%s\\n' '${releaseKey}' >"$3"` },
    { cmd: 'gpg', args: '--show-keys --with-colons *', run: 'printf "pub:-:4096:1:234654DA9A296436:::::::::\\nfpr:::::::::%s:\\n" "$(cat "$3")"' },
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
  const run = (args: string[] = [], env: Record<string, string> = {}) => node.run('node-prep.sh', args, { SYSROOT: sysroot, ...env });
  const file = (path: string) => readFileSync(join(sysroot, path), 'utf8');
  const packages = () => Object.fromEntries(readdirSync(join(aptDir, 'installed')).map((p) => [p, readFileSync(join(aptDir, 'installed', p), 'utf8').trim()]));
  const held = () => readdirSync(join(aptDir, 'held')).sort();
  const clock = () => Number(readFileSync(join(aptDir, 'clock'), 'utf8'));
  return { node, sysroot, run, file, packages, held, clock };
}

/** The pinned versions of a prepared node. */
const PREPARED = { containerd: CONTAINERD, runc: RUNC, kubelet: '1.34.1-1.1', kubeadm: '1.34.1-1.1', kubectl: '1.34.1-1.1' };
/** The marker of a prepared node: every version it pins and the digest of the download pins it checked them against. */
const PINS = createHash('sha256').update(downloadPinsFile()).digest('hex').slice(0, 16);
const MARKER = `kubernetes=1.34.1 containerd=${tools.containerd} runc=${tools.runc} aws-cli=${tools.awsCli} etcd=${tools.etcd} helm=${tools.helm} pins=${PINS}`;

describe('node-prep.sh', () => {
  it('turns swap off, loads the modules and sysctls, and installs the pinned containerd, runc and kubeadm/kubelet/kubectl, held', () => {
    const { sysroot, run, file, packages, held } = prepNode('worker');
    const result = run();
    expect(result.status, result.stderr).toBe(0);
    const calls = callsOf(result.calls, ...PREP);
    const keyFetch = [
      expect.stringMatching(/^curl -fsSL -o \S+ https:\/\/pkgs\.k8s\.io\/core:\/stable:\/v1\.34\/deb\/Release\.key$/),
      expect.stringMatching(/^gpg --show-keys --with-colons \S+$/),
      `gpg --dearmor --yes -o ${sysroot}/etc/apt/keyrings/kubernetes-apt-keyring.gpg`,
    ];
    expect(calls).toEqual([...LOCAL_SETTINGS, ...FENCE_SLICE, ...CONTAINERD_AND_VERSION_CHECK, ...keyFetch, ...KUBERNETES_PACKAGES, 'aws --version']);
    expect(packages()).toMatchObject(PREPARED);
    expect(held()).toEqual(['containerd', 'kubeadm', 'kubectl', 'kubelet', 'runc']);
    expect(file('etc/fstab')).toBe('UUID=1 / ext4 defaults 0 1\n#/swap.img none swap sw 0 0\n# /old none swap sw 0 0\n');
    expect(file('etc/modules-load.d/kubernetes.conf')).toBe('overlay\nbr_netfilter\n');
    expect(file('etc/sysctl.d/90-kubernetes.conf')).toBe('net.ipv4.ip_forward = 1\nnet.bridge.bridge-nf-call-iptables = 1\nnet.bridge.bridge-nf-call-ip6tables = 1\n');
    expect(file('etc/containerd/config.toml')).toBe('[plugins]\n  SystemdCgroup = true\n');
    expect(file('etc/apt/keyrings/kubernetes-apt-keyring.gpg')).toBe(`${DOWNLOAD_LOCK['kubernetes-apt-key'].fingerprint}\n`);
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
    expect(node.file(join(node.state, 'node-prep.done'))).toBe(`${MARKER}\n`);
    const fstab = file('etc/fstab');
    const again = run();
    expect(again.status, again.stderr).toBe(0);
    expect(callsOf(again.calls, ...PREP)).toEqual([
      ...LOCAL_SETTINGS,
      // The IMDS fence's slice (every boot; its unit file is already there: no daemon-reload).
      'systemctl start kubepods.slice',
      // The pinned versions are still what is installed.
      'dpkg-query -W -f=${Version} containerd',
      'dpkg-query -W -f=${Version} runc',
      'dpkg-query -W -f=${Version} kubeadm',
      'aws --version',
      'etcdctl version',
      'helm version --short',
    ]);
    expect(again.stderr).toContain(`node-bootstrap-prepare [check-prepared] node already prepared (${MARKER})`);
    expect(file('etc/fstab')).toBe(fstab);
    expect(fstab).toContain('\n#/swap.img none swap sw 0 0\n');
  });

  it('moves held packages to new pins: unhold, install the pinned versions, hold again', () => {
    const { node, run, packages, held } = prepNode('worker', {
      installed: { ...PREPARED, containerd: '1.7.12-0ubuntu4', runc: '1.1.12-0ubuntu3' },
      held: ['containerd', 'runc', 'kubelet', 'kubeadm', 'kubectl'],
    });
    writeFileSync(join(node.state, 'node-prep.done'), `kubernetes=1.34.1 containerd=1.7.12 runc=1.1.12 aws-cli=${tools.awsCli} etcd=${tools.etcd} helm=${tools.helm} pins=${PINS}\n`);
    const result = run();
    expect(result.status, result.stderr).toBe(0);
    // kubeadm is current: no reinstall of the Kubernetes packages.
    expect(callsOf(result.calls, ...PREP)).toEqual([...LOCAL_SETTINGS, ...FENCE_SLICE, ...CONTAINERD_AND_VERSION_CHECK, 'aws --version']);
    expect(packages()).toMatchObject({ containerd: CONTAINERD, runc: RUNC });
    expect(held()).toEqual(['containerd', 'kubeadm', 'kubectl', 'kubelet', 'runc']);
    expect(node.file(join(node.state, 'node-prep.done'))).toBe(`${MARKER}\n`);
  });

  it('prepares again when the marker is there but kubeadm is not the pinned version', () => {
    const { node, run, packages } = prepNode('worker', { installed: { ...PREPARED, kubeadm: '1.33.5-1.1', kubelet: '1.33.5-1.1', kubectl: '1.33.5-1.1' } });
    writeFileSync(join(node.state, 'node-prep.done'), `${MARKER}\n`);
    const result = run();
    expect(result.status, result.stderr).toBe(0);
    expect(result.calls).toContain(`apt-get ${WAIT} install -y -q kubelet=1.34.1-* kubeadm=1.34.1-* kubectl=1.34.1-*`);
    expect(packages()).toMatchObject(PREPARED);
  });

  it('refuses a pkgs.k8s.io signing key whose fingerprint is not the pinned one: no keyring, no source, no package', () => {
    const { run, sysroot, packages } = prepNode('worker', {}, [], '0123456789ABCDEF0123456789ABCDEF01234567');
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `node-bootstrap-prepare [kubernetes-packages] FAILED: kubernetes-apt-key (pkgs.k8s.io v1.34 Release.key): fingerprint 0123456789ABCDEF0123456789ABCDEF01234567, expected the pinned ${DOWNLOAD_LOCK['kubernetes-apt-key'].fingerprint}; refused`,
    );
    expect(existsSync(join(sysroot, 'etc/apt/keyrings/kubernetes-apt-keyring.gpg'))).toBe(false);
    expect(existsSync(join(sysroot, 'etc/apt/sources.list.d/kubernetes.list'))).toBe(false);
    expect(packages().kubeadm).toBeUndefined();
  });

  it('fails naming the step when the pinned packages cannot be installed', () => {
    const { run } = prepNode('worker', { archive: ARCHIVE.filter((l) => !l.includes(' 1.34.1-')) });
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('node-bootstrap-prepare [kubernetes-packages] FAILED: installing kubelet/kubeadm/kubectl 1.34.1 failed');
    expect(callsOf(result.calls, 'apt-get').filter((c) => c.startsWith(`apt-get ${WAIT} install -y -q kubelet=`))).toHaveLength(5);
  });
});

/**
 * The downloads as the servers would deliver them: archives laid out like the real releases
 * (etcd-v<v>-linux-<arch>/etcdctl, linux-<arch>/helm, aws/install), built with the real tar and
 * zip, served by a fake curl from a directory; node-prep.sh checks, unpacks and installs them
 * with the real sha256sum, tar, unzip and install.
 */
function releases(dir: string) {
  const tree = join(dir, 'tree');
  const exe = (path: string, body: string) => {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 });
  };
  const etcdName = `etcd-v${tools.etcd}-linux-amd64`;
  exe(join(tree, etcdName, 'etcdctl'), `printf 'etcdctl version: ${tools.etcd}\\nAPI version: 3.6\\n'`);
  exe(join(tree, etcdName, 'etcdutl'), `echo "etcdutl version: ${tools.etcd}"`);
  exe(join(tree, 'linux-amd64', 'helm'), `echo "v${tools.helm}+gfake"`);
  // AWS's installer: --update -i <install dir> -b <bin dir>.
  exe(join(tree, 'aws', 'install'), 'while (($#)); do case $1 in -b) bin=$2; shift 2 ;; *) shift ;; esac; done\nprintf "#!/bin/sh\\necho aws-cli/%s Python/3.13.2 Linux/6.8.0\\n" "$(cat "$(dirname "$0")/version")" >"$bin/aws" && chmod 0755 "$bin/aws"');
  writeFileSync(join(tree, 'aws', 'version'), tools.awsCli);
  const served = join(dir, 'served');
  mkdirSync(served, { recursive: true });
  const sh = (cmd: string) => {
    const r = spawnSync('bash', ['-c', cmd], { cwd: tree, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
  };
  sh(`tar -czf ${served}/${etcdName}.tar.gz ${etcdName} && tar -czf ${served}/helm-v${tools.helm}-linux-amd64.tar.gz linux-amd64 && zip -qr ${served}/awscli-exe-linux-x86_64-${tools.awsCli}.zip aws`);
  const sha = (file: string) => createHash('sha256').update(readFileSync(join(served, file))).digest('hex');
  const lock = {
    ...DOWNLOAD_LOCK,
    etcd: { source: 'test', sha256: { [tools.etcd]: { amd64: sha(`${etcdName}.tar.gz`) } } },
    helm: { source: 'test', sha256: { [tools.helm]: { amd64: sha(`helm-v${tools.helm}-linux-amd64.tar.gz`) } } },
    'aws-cli': { source: 'test', sha256: { [tools.awsCli]: { amd64: sha(`awscli-exe-linux-x86_64-${tools.awsCli}.zip`) } } },
  };
  return { served, lock, sha, etcdName };
}

describe('node-prep.sh downloads: every file against the SHA-256 pinned in the bundle', () => {
  /** A control-plane node that has its packages but none of the downloaded tools; curl serves `served`, `uname -m` is x86_64. */
  function downloadNode() {
    const rules: Rule[] = [
      // Nothing installed yet: every version check answers like a missing binary.
      ...['aws --version', 'etcdctl version', 'helm version --short'].map((call): Rule => ({ cmd: call.split(' ')[0], args: call.split(' ').slice(1).join(' '), exit: 127 })),
      { cmd: 'curl', args: '-fsSL -o * https://*', run: 'cp "$SERVED/${4##*/}" "$3"' },
    ];
    const prep = prepNode('control-plane', { installed: PREPARED, held: ['containerd', 'runc', 'kubelet', 'kubeadm', 'kubectl'] }, rules);
    const bin = join(prep.node.root, 'usr-local-bin');
    mkdirSync(bin);
    const dir = join(prep.node.root, 'releases');
    const rel = releases(dir);
    // The bundle's pins file as download-lock.json renders it, for these (fake) release bytes.
    writeFileSync(join(prep.node.lib, DOWNLOAD_PINS_FILE), downloadPinsFile(rel.lock as never));
    const run = () => prep.node.run('node-prep.sh', [], { SYSROOT: prep.sysroot, BIN_DIR: bin, SERVED: rel.served, PATH: `${join(prep.node.fakeDir, 'bin')}:${unameDir(prep.node.root)}:${process.env.PATH ?? ''}` });
    return { ...prep, ...rel, bin, run };
  }

  it('installs the AWS CLI, etcdctl/etcdutl and helm whose bytes match the pins', () => {
    const { run, bin, node } = downloadNode();
    const result = run();
    expect(result.status, result.stderr).toBe(0);
    // kubeadm is already the pinned version: the apt key is not fetched.
    expect(callsOf(result.calls, 'curl')).toEqual([
      expect.stringMatching(new RegExp(`^curl -fsSL -o \\S+/awscli\\.zip https://awscli\\.amazonaws\\.com/awscli-exe-linux-x86_64-${tools.awsCli}\\.zip$`)),
      expect.stringMatching(new RegExp(`^curl -fsSL -o \\S+ https://github\\.com/etcd-io/etcd/releases/download/v${tools.etcd}/etcd-v${tools.etcd}-linux-amd64\\.tar\\.gz$`)),
      expect.stringMatching(new RegExp(`^curl -fsSL -o \\S+ https://get\\.helm\\.sh/helm-v${tools.helm}-linux-amd64\\.tar\\.gz$`)),
    ]);
    expect(readdirSync(bin).sort()).toEqual(['aws', 'etcdctl', 'etcdutl', 'helm']);
    expect(spawnSync(join(bin, 'etcdctl'), { encoding: 'utf8' }).stdout).toBe(`etcdctl version: ${tools.etcd}\nAPI version: 3.6\n`);
    expect(node.file(join(node.state, 'node-prep.done'))).toBe(`${MARKER.replace(PINS, createHash('sha256').update(readFileSync(join(node.lib, DOWNLOAD_PINS_FILE))).digest('hex').slice(0, 16))}\n`);
  });

  it('refuses a tampered etcd archive, naming the artefact, its URL and both hashes, and installs nothing from it', () => {
    const { run, bin, served, etcdName, lock, node } = downloadNode();
    const file = join(served, `${etcdName}.tar.gz`);
    writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.from('x')]));
    const got = createHash('sha256').update(readFileSync(file)).digest('hex');
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `node-bootstrap-prepare [etcd-tools] FAILED: etcd ${tools.etcd} (amd64) from https://github.com/etcd-io/etcd/releases/download/v${tools.etcd}/${etcdName}.tar.gz: SHA-256 ${got}, expected the pinned ${lock.etcd.sha256[tools.etcd].amd64}; refused`,
    );
    expect(readdirSync(bin)).toEqual(['aws']);
    expect(node.exists(join(node.state, 'node-prep.done'))).toBe(false);
  });

  it('refuses to download what has no pin at all (a version bumped without its hash)', () => {
    const { run, bin, lock, node } = downloadNode();
    writeFileSync(join(node.lib, DOWNLOAD_PINS_FILE), downloadPinsFile({ ...lock, helm: { source: 'test', sha256: {} } } as never));
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`node-bootstrap-prepare [helm] FAILED: helm ${tools.helm} (amd64): no pinned SHA-256 in the bundle's download-pins.txt (node-bootstrap src/download-lock.json); refusing to download it unverified`);
    expect(callsOf(result.calls, 'curl').some((c) => c.includes('get.helm.sh'))).toBe(false);
    expect(readdirSync(bin).sort()).toEqual(['aws', 'etcdctl', 'etcdutl']);
  });
});

/** A directory with `uname` answering x86_64 for -m (the AWS CLI URL names the kernel's machine), whatever this machine is. */
function unameDir(root: string): string {
  const dir = join(root, 'uname-bin');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'uname'), '#!/bin/sh\n[ "$1" = -m ] && { echo x86_64; exit 0; }\nexec /usr/bin/uname "$@"\n', { mode: 0o755 });
  return dir;
}

describe('the baked image (imageBakeScript): node-prep.sh at bake time, nothing downloaded at boot', () => {
  it('bakes every pinned tool with ROLE=image, and a control-plane node booted from it skips apt and every download', () => {
    const rules: Rule[] = [
      ...['aws --version', 'etcdctl version', 'helm version --short'].map((call): Rule => ({ cmd: call.split(' ')[0], args: call.split(' ').slice(1).join(' '), exit: 127 })),
      { cmd: 'curl', args: '-fsSL -o * */Release.key', run: `printf '%s\\n' '${DOWNLOAD_LOCK['kubernetes-apt-key'].fingerprint}' >"$3"` },
      { cmd: 'curl', args: '-fsSL -o * https://*', run: 'cp "$SERVED/${4##*/}" "$3"' },
    ];
    // The build instance: a stock Ubuntu image (nothing installed) with the archives of prepNode's model.
    const { node, sysroot } = prepNode('control-plane', {}, rules);
    const bin = join(node.root, 'usr-local-bin');
    mkdirSync(bin);
    const rel = releases(join(node.root, 'releases'));
    const imageEtc = join(node.root, 'image-etc');
    // The component's script as Image Builder runs it, its paths moved under the test root and its
    // pins those of the (fake) release bytes, exactly as the bundle's would be.
    const bake = imageBakeScript({ name: 'staging', kubernetesVersion: '1.34.1' }, 'amd64')
      .replace(downloadPinsFile(), downloadPinsFile(rel.lock as never))
      .replaceAll('/opt/node-bootstrap', node.lib)
      .replaceAll('/etc/node-bootstrap', imageEtc);
    writeFileSync(join(node.root, 'bake.sh'), bake);
    const env = { SYSROOT: sysroot, BIN_DIR: bin, SERVED: rel.served, BOOTSTRAP_ETC: imageEtc };
    const baked = node.run('../bake.sh', [], env);
    expect(baked.status, baked.stderr).toBe(0);
    expect(node.file(join(imageEtc, 'env'))).toContain("ROLE='image'\n");
    expect(readdirSync(bin).sort()).toEqual(['aws', 'etcdctl', 'etcdutl', 'helm']);
    // The pkgs.k8s.io key, the AWS CLI, etcd and helm: every download happens at bake time.
    expect(callsOf(baked.calls, 'curl').length).toBe(4);

    // First boot of a control-plane node from that image: its own env (user data), the same scripts and pins.
    writeFileSync(join(node.lib, DOWNLOAD_PINS_FILE), downloadPinsFile(rel.lock as never));
    const boot = node.run('node-prep.sh', [], { SYSROOT: sysroot, PATH: `${bin}:${join(node.fakeDir, 'bin')}:${process.env.PATH ?? ''}` });
    expect(boot.status, boot.stderr).toBe(0);
    expect(boot.stderr).toContain('node-bootstrap-prepare [check-prepared] node already prepared (');
    expect(callsOf(boot.calls, 'curl', 'apt-get', 'apt-mark', 'gpg')).toEqual([]);
  });

  it('a node whose pins differ from the bake (the lock moved on) prepares again instead of trusting the image', () => {
    const { node, sysroot } = prepNode('worker', { installed: PREPARED, held: ['containerd', 'runc', 'kubelet', 'kubeadm', 'kubectl'] });
    // The image's marker, baked against another download-pins.txt.
    writeFileSync(join(node.state, 'node-prep.done'), `${MARKER.replace(PINS, '0123456789abcdef')}\n`);
    const result = node.run('node-prep.sh', [], { SYSROOT: sysroot });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('node already prepared');
    expect(node.file(join(node.state, 'node-prep.done'))).toBe(`${MARKER}\n`);
  });
});

/** A socket on the node: who created it and in which cgroup2 (relative to the root). */
interface Socket {
  readonly uid: number;
  readonly cgroup: string;
}

/**
 * The verdict of the filter table's OUTPUT chain for a packet from `socket` to `destination`, as
 * the kernel traverses it: rules in order, a jump enters the chain, the chain's end returns,
 * ACCEPT/DROP end it; the policy (ACCEPT) when nothing decides. `-m cgroup --path P` matches a
 * socket in the cgroup the rule resolved when it was added, or below it (cgroup2 descendants):
 * the socket lives in the hierarchy as it is now (`cgroups`, the fake's cgroup2 root), so after
 * P was removed and made again its sockets are in another cgroup (another id) and do not match.
 * `-m owner --uid-owner U` matches the socket's uid.
 */
function verdict(tables: string, socket: Socket, destination: string, cgroups = join(tables, '..', '..', 'cgroup')): 'ACCEPT' | 'DROP' {
  const chain = (name: string): string[] => (existsSync(join(tables, name)) ? readFileSync(join(tables, name), 'utf8').split('\n').filter(Boolean) : []);
  const walk = (name: string): 'ACCEPT' | 'DROP' | undefined => {
    for (const rule of chain(name)) {
      const option = (flag: string) => new RegExp(`${flag} (\\S+)`).exec(rule)?.[1];
      const dest = option('-d');
      if (dest !== undefined && dest.replace(/\/(32|128)$/, '') !== destination) continue;
      const uid = option('--uid-owner');
      if (uid !== undefined && Number(uid) !== socket.uid) continue;
      const path = option('--path')?.replace(/^\//, '');
      if (path !== undefined && socket.cgroup !== path && !socket.cgroup.startsWith(`${path}/`)) continue;
      const resolved = / @(\d+)$/.exec(rule)?.[1];
      if (path !== undefined && (!existsSync(join(cgroups, path)) || String(statSync(join(cgroups, path)).ino) !== resolved)) continue;
      const target = option('-j')!;
      if (target === 'ACCEPT' || target === 'DROP') return target;
      const result = walk(target);
      if (result) return result;
    }
    return undefined;
  };
  return walk('OUTPUT') ?? 'ACCEPT';
}

describe('node-prep.sh IMDS fence (from the stage complete)', () => {
  const POD = 'kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0f3c.slice/cri-containerd-4a1b.scope';
  const NODE_EXPORTER: Socket = { uid: 65534, cgroup: POD };
  const ROOT_POD: Socket = { uid: 0, cgroup: 'kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod77aa.slice/cri-containerd-9e.scope' };
  // The uid the cloud controller runs as: any pod could claim it, so it is no exception.
  const CLOUD_CONTROLLER: Socket = { uid: CLOUD_CONTROLLER_UID, cgroup: 'kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1c.slice/cri-containerd-77.scope' };
  const KUBELET: Socket = { uid: 0, cgroup: 'system.slice/kubelet.service' };
  const BOOTSTRAP: Socket = { uid: 0, cgroup: 'system.slice/node-bootstrap.service' };
  const IMDS_V4 = '169.254.169.254';
  const IMDS_V6 = 'fd00:ec2::254';
  const FENCE = (tool: 'iptables' | 'ip6tables', address: string) => [
    `${tool} -w -N ${IMDS_FENCE.chain}`,
    `${tool} -w -A ${IMDS_FENCE.chain} -m cgroup --path kubepods.slice -j DROP`,
    `${tool} -w -C OUTPUT -d ${address} -j ${IMDS_FENCE.chain}`,
    `${tool} -w -I OUTPUT 1 -d ${address} -j ${IMDS_FENCE.chain}`,
  ];
  /** The fence's checks when it is in place: the rule and the jump, per family. */
  const CHECKS = ['iptables', 'ip6tables'].flatMap((tool) => [
    `${tool} -w -C ${IMDS_FENCE.chain} -m cgroup --path kubepods.slice -j DROP`,
    `${tool} -w -C OUTPUT -d ${tool === 'iptables' ? '169.254.169.254/32' : 'fd00:ec2::254/128'} -j ${IMDS_FENCE.chain}`,
  ]);
  const reboot = (node: FakeNode) => ['netfilter', 'cgroup'].forEach((d) => rmSync(join(node.fakeDir, d), { recursive: true, force: true }));
  /**
   * kubepods.slice removed and made again while the node runs (the kubelet's transient slice after
   * a restart with no pods, systemd collecting it): a new cgroup at the same path. The old one is
   * kept aside so its id is not reused, as the kernel never reuses cgroup ids.
   */
  const recreateSlice = (node: FakeNode) => {
    const cgroups = join(node.fakeDir, 'cgroup');
    mkdirSync(join(node.root, 'gone'), { recursive: true });
    renameSync(join(cgroups, 'kubepods.slice'), join(node.root, 'gone', `kubepods.slice-${Date.now()}`));
    mkdirSync(join(cgroups, 'kubepods.slice'));
  };
  const rules = (node: FakeNode, tool: string) => readFileSync(join(node.fakeDir, 'netfilter', tool, IMDS_FENCE.chain), 'utf8');
  const sliceId = (node: FakeNode) => String(statSync(join(node.fakeDir, 'cgroup', 'kubepods.slice')).ino);

  it('drops IMDS from every pod socket (node-exporter, root pods, the cloud controller’s uid) but not host processes, IPv4 and IPv6', () => {
    const { node, run, file } = prepNode('control-plane');
    const result = run();
    expect(result.status, result.stderr).toBe(0);
    // The slice exists before the cgroup rule (the kernel resolves --path when the rule is added).
    expect(callsOf(result.calls, 'systemctl', 'iptables', 'ip6tables').slice(0, 10)).toEqual([
      'systemctl daemon-reload',
      'systemctl start kubepods.slice',
      ...FENCE('iptables', '169.254.169.254/32'),
      ...FENCE('ip6tables', 'fd00:ec2::254/128'),
    ]);
    expect(file('etc/systemd/system/kubepods.slice')).toContain('[Unit]');
    // The id the rule was armed for, which the re-arm compares.
    expect(readFileSync(join(node.state, 'imds-fence.cgroup-id'), 'utf8')).toBe(`${sliceId(node)}\n`);
    for (const [tool, address] of [['iptables', IMDS_V4], ['ip6tables', IMDS_V6]] as const) {
      const tables = join(node.fakeDir, 'netfilter', tool);
      expect(rules(node, tool)).toBe(`-m cgroup --path kubepods.slice -j DROP @${sliceId(node)}\n`);
      expect(verdict(tables, NODE_EXPORTER, address)).toBe('DROP');
      expect(verdict(tables, ROOT_POD, address)).toBe('DROP');
      expect(verdict(tables, CLOUD_CONTROLLER, address)).toBe('DROP');
      expect(verdict(tables, KUBELET, address)).toBe('ACCEPT');
      expect(verdict(tables, BOOTSTRAP, address)).toBe('ACCEPT');
      // Only IMDS: a pod's other traffic is not touched.
      expect(verdict(tables, NODE_EXPORTER, '10.20.1.30')).toBe('ACCEPT');
    }
    // No uid exception anywhere in the env either.
    expect(node.file(join(node.etc, 'env'))).not.toContain('IMDS_FENCE_UID');
  });

  it('a slice made again (same path, new cgroup) escapes the old rule, as in the kernel; `imds-fence` re-arms it for the new cgroup', () => {
    const { node, run } = prepNode('control-plane');
    expect(run().status).toBe(0);
    const tables = join(node.fakeDir, 'netfilter', 'iptables');
    const armedFor = sliceId(node);
    recreateSlice(node);
    expect(sliceId(node)).not.toBe(armedFor);
    // The failure the re-arm exists for: the rule still reads the same (iptables -C finds it) but matches nothing.
    expect(verdict(tables, NODE_EXPORTER, IMDS_V4)).toBe('ACCEPT');
    expect(verdict(join(node.fakeDir, 'netfilter', 'ip6tables'), ROOT_POD, IMDS_V6)).toBe('ACCEPT');
    const rearm = run(['imds-fence']);
    expect(rearm.status, rearm.stderr).toBe(0);
    expect(rearm.stderr).toContain(`IMDS fence armed for kubepods.slice (cgroup id ${sliceId(node)})`);
    // Only the fence: nothing of the preparation runs.
    expect(callsOf(rearm.calls, 'swapoff', 'modprobe', 'apt-get', 'curl')).toEqual([]);
    expect(rules(node, 'iptables')).toBe(`-m cgroup --path kubepods.slice -j DROP @${sliceId(node)}\n`);
    expect(verdict(tables, NODE_EXPORTER, IMDS_V4)).toBe('DROP');
    expect(verdict(join(node.fakeDir, 'netfilter', 'ip6tables'), ROOT_POD, IMDS_V6)).toBe('DROP');
    expect(verdict(tables, KUBELET, IMDS_V4)).toBe('ACCEPT');
  });

  it('a re-arm over a chain that still drops never leaves a pod an open moment: a complete stand-in chain takes the jump before the chain is flushed, then goes (every intermediate table state traced)', () => {
    const { node, run } = prepNode('control-plane');
    expect(run().status).toBe(0);
    // The record of the armed id is lost (the rule itself still holds): the next check re-arms.
    rmSync(join(node.state, 'imds-fence.cgroup-id'));
    const rearm = run(['imds-fence'], { FAKE_NETFILTER_TRACE: '1' });
    expect(rearm.status, rearm.stderr).toBe(0);
    const trace = join(node.fakeDir, 'netfilter-trace');
    const states = readdirSync(trace).sort();
    expect(states.length).toBeGreaterThanOrEqual(4);
    for (const state of states) {
      for (const [tool, address] of [['iptables', IMDS_V4], ['ip6tables', IMDS_V6]] as const) {
        expect(verdict(join(trace, state, tool), NODE_EXPORTER, address, join(node.fakeDir, 'cgroup')), `${state} ${tool}`).toBe('DROP');
        expect(verdict(join(trace, state, tool), KUBELET, address, join(node.fakeDir, 'cgroup')), `${state} ${tool}`).toBe('ACCEPT');
      }
    }
    // The end state is the plain fence: one jump, one rule, no stand-in left.
    for (const [tool, address] of [['iptables', '169.254.169.254/32'], ['ip6tables', 'fd00:ec2::254/128']] as const) {
      expect(readFileSync(join(node.fakeDir, 'netfilter', tool, 'OUTPUT'), 'utf8')).toBe(`-d ${address} -j ${IMDS_FENCE.chain}\n`);
      expect(rules(node, tool)).toBe(`-m cgroup --path kubepods.slice -j DROP @${sliceId(node)}\n`);
      expect(existsSync(join(node.fakeDir, 'netfilter', tool, `${IMDS_FENCE.chain}-NEXT`))).toBe(false);
    }
  });

  it('the timer’s check changes nothing while the slice is the one the rule was armed for', () => {
    const { node, run } = prepNode('worker');
    expect(run().status).toBe(0);
    const before = rules(node, 'iptables');
    const check = run(['imds-fence']);
    expect(check.status, check.stderr).toBe(0);
    expect(callsOf(check.calls, 'iptables', 'ip6tables')).toEqual(CHECKS);
    expect(rules(node, 'iptables')).toBe(before);
  });

  it('a slice that is gone is started again and the rule re-armed; one that cannot be made fails the check (the kubelet does not start)', () => {
    const { node, run } = prepNode('control-plane');
    expect(run().status).toBe(0);
    rmSync(join(node.fakeDir, 'cgroup', 'kubepods.slice'), { recursive: true });
    const rearm = run(['imds-fence']);
    expect(rearm.status, rearm.stderr).toBe(0);
    expect(verdict(join(node.fakeDir, 'netfilter', 'iptables'), NODE_EXPORTER, IMDS_V4)).toBe('DROP');

    const { run: failing } = prepNode('control-plane', {}, [{ cmd: 'systemctl', args: 'start kubepods.slice', exit: 0 }]);
    const result = failing(['imds-fence']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('FAILED: no cgroup');
  });

  it('is idempotent: a re-run keeps one jump and one copy of each rule; a reboot (empty tables) re-creates them', () => {
    const { node, run } = prepNode('control-plane');
    expect(run().status).toBe(0);
    const tables = join(node.fakeDir, 'netfilter', 'iptables');
    const snapshot = () => ['OUTPUT', IMDS_FENCE.chain].map((c) => readFileSync(join(tables, c), 'utf8').replace(/ @\d+$/gm, ''));
    const first = snapshot();
    expect(first[0]).toBe(`-d 169.254.169.254/32 -j ${IMDS_FENCE.chain}\n`);
    const again = run();
    expect(again.status, again.stderr).toBe(0);
    expect(snapshot()).toEqual(first);
    // Armed for this cgroup already: checked, not rebuilt.
    expect(callsOf(again.calls, 'iptables', 'ip6tables')).toEqual(CHECKS);
    // The unit file persists: no second daemon-reload.
    expect(callsOf(again.calls, 'systemctl').filter((c) => c.includes('daemon-reload'))).toEqual([]);
    reboot(node);
    const boot = run();
    expect(boot.status, boot.stderr).toBe(0);
    expect(snapshot()).toEqual(first);
    expect(verdict(tables, NODE_EXPORTER, IMDS_V4)).toBe('DROP');
  });

  it('the fence is re-applied on a prepared node too (every boot), before the prepared check', () => {
    const { node, run } = prepNode('control-plane');
    expect(run().status).toBe(0);
    reboot(node);
    const boot = run();
    expect(boot.status, boot.stderr).toBe(0);
    expect(boot.stderr).toContain('node already prepared');
    expect(verdict(join(node.fakeDir, 'netfilter', 'ip6tables'), NODE_EXPORTER, IMDS_V6)).toBe('DROP');
  });

  it('without the slice the fence step fails the boot instead of leaving pods open', () => {
    const { run } = prepNode('control-plane', {}, [{ cmd: 'systemctl', args: 'start kubepods.slice', exit: 0 }]);
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('[imds-fence] FAILED: no cgroup');
  });

  it('workers get the same fence: their role reads the join token, and no pod there needs IMDS with web identity', () => {
    const { node, run } = prepNode('worker');
    const result = run();
    expect(result.status, result.stderr).toBe(0);
    expect(callsOf(result.calls, 'iptables')).toEqual(FENCE('iptables', '169.254.169.254/32'));
    expect(verdict(join(node.fakeDir, 'netfilter', 'iptables'), NODE_EXPORTER, IMDS_V4)).toBe('DROP');
  });

  it('before the stage complete no node is fenced (web-identity included: its control-plane roll runs before the manifests move to web identity, the add-ons still use the node role from the host network)', () => {
    for (const [role, identity] of (['control-plane', 'worker'] as const).flatMap((r) => [ServiceAccountIdentity.signWithIssuer(), ServiceAccountIdentity.of('web-identity')].map((i) => [r, i] as const))) {
      const base = inputFor('production', role);
      const input = { ...base, cluster: { ...base.cluster, serviceAccountIdentity: identity } };
      const { node, run } = prepNode(role, {}, [], undefined, input);
      const result = run();
      expect(result.status, result.stderr).toBe(0);
      expect(callsOf(result.calls, 'iptables', 'ip6tables')).toEqual([]);
      expect(existsSync(join(node.fakeDir, 'netfilter'))).toBe(false);
    }
  });
});
