import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach } from 'vitest';
import { parse, stringify } from 'yaml';
import { defaultPlatform } from '@platform/platform-config';
import { renderUserData, type UserDataInput } from '../src';
import { compressedBundle } from '../src/private/script-bundle';
import { applyKubeadmPatches, kubeadmApiServerPod } from './kubeadm-static-pod';

export const platform = defaultPlatform();
export const API = '${aws_lb.api_production.dns_name}';

/** The bundle object's S3 version id in tests (Terraform's token in production). */
export const BUNDLE_VERSION = 'test-version.1';

export function inputFor(clusterName: string, role: 'control-plane' | 'worker', poolName?: string): UserDataInput {
  const cluster = platform.cluster(clusterName);
  const pool = role === 'worker' ? cluster.workerPools.find((p) => p.name === (poolName ?? cluster.workerPools[0].name)) : undefined;
  return { role, cluster, settings: platform.settings, names: platform.namesOf(cluster), apiEndpoint: API, bundleVersionId: BUNDLE_VERSION, pool };
}

/** A fake command's answer: first rule whose glob matches the arguments wins. */
export interface Rule {
  readonly cmd: string;
  /** bash glob over the arguments joined by spaces. */
  readonly args: string;
  readonly exit?: number;
  readonly stdout?: string;
  /** Create the file named by the last argument (etcdctl snapshot save). */
  readonly touchLastArg?: boolean;
  /** Create this file (kubeadm init writes admin.conf). */
  readonly creates?: string;
  /** Apply only to the first N matching calls. */
  readonly times?: number;
  /**
   * Bash run by the fake with the call's arguments as "$@" before it answers (e.g. copy an
   * archive to where `aws s3 cp` was told to write it); a non-zero exit fails the call. The
   * call's stdin is fd 3 (`cat <&3`): a fake that ignores piped input may break the pipe.
   */
  readonly run?: string;
}

/** The service-account public key fake `kubeadm init` and control-plane joins leave in pki (any valid key: the issuer documents are built from it). */
export const FAKE_SA_PUB = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA1OnkwqO0wB/tgZt6FJGy
fQpL30EK6zooU/zq4Bf0h5JwMpO4FZ2UaNziW4fn55LstH0CmIMDUw9CkUkgwvFl
DZ9mdYyRTvBnelOARlvAdLjnfGxvmzer1uKjeHsV3fs+zYRjeIclqhGsqwcwTr+Z
avLX5Pg7FQE819OripXBuh5w3cx94or1zIXU7MABcEaV6ZduiNZ9FuKaWlJslalC
wUztu6/p4w2LkuR2Ce3txtWOnNyqrYA6EJcvJxLmbHj7yE6vMIyk1lrdgE3Yo/00
hVRxSCmzlP1AlIH1M+t7Z7WSnIbbrsAgYXBYRROv0louZaV5QjqWCaGGRTPj3Oqz
cwIDAQAB
-----END PUBLIC KEY-----
`;

const FAKE = `#!/usr/bin/env bash
name=\${0##*/}
# kubeadm init and a control-plane join leave the cluster's service-account key in pki, as the real one does.
if [[ $name == kubeadm && \${2-} == --config && ( \${1-} == init || ( \${1-} == join && -f \${3-} ) ) ]] && { [[ $1 == init ]] || grep -q '^controlPlane:' "$3"; }; then
  mkdir -p "$KUBE_DIR/pki" && [[ -f $KUBE_DIR/pki/sa.pub ]] || cp "$FAKE_DIR/sa.pub" "$KUBE_DIR/pki/sa.pub"
  # Its kube-apiserver manifest, with the node's patches applied (FakeNode writes what kubeadm would).
  [[ -f $KUBE_DIR/manifests/kube-apiserver.yaml || ! -f $FAKE_DIR/kube-apiserver.yaml ]] || { mkdir -p "$KUBE_DIR/manifests" && cp "$FAKE_DIR/kube-apiserver.yaml" "$KUBE_DIR/manifests/"; }
fi
# kubeadm's sa phase and the certificates a control-plane join downloads bring sa.pub too.
if [[ $name == kubeadm && ( "\${*:1:4}" == 'init phase certs sa' || "\${*:1:4}" == 'join phase control-plane-prepare download-certs' ) ]]; then
  mkdir -p "$KUBE_DIR/pki" && [[ -f $KUBE_DIR/pki/sa.pub ]] || cp "$FAKE_DIR/sa.pub" "$KUBE_DIR/pki/sa.pub"
fi
# kubeadm reset: its remove-etcd-member phase (unless skipped) reads etcd's data dir from the etcd
# manifest (the cluster's ClusterConfiguration first: fakes/etcd.sh) and cleanup-node empties it.
if [[ $name == kubeadm && \${1-} == reset && " $* " != *remove-etcd-member* && -f $KUBE_DIR/manifests/etcd.yaml ]]; then
  find "$ETCD_DATA_DIR/" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
fi
printf '%s\\n' "$name $*" >>"$FAKE_DIR/calls.log"
# A trailing "-" means the manifest comes on stdin: keep it, numbered like the call.
if [[ \${*: -1} == - ]]; then cat >"$FAKE_DIR/stdin/$(wc -l <"$FAKE_DIR/calls.log")"; fi
args="$*"
exec 3<&0
n=0
while IFS=$'\\t' read -r cmd pattern code out touch times run; do
  n=$((n + 1))
  [[ $cmd == "$name" ]] || continue
  # shellcheck disable=SC2053
  [[ $args == $pattern ]] || continue
  if [[ $times != 0 ]]; then
    used=$(cat "$FAKE_DIR/used.$n" 2>/dev/null || echo 0)
    ((used < times)) || continue
    echo $((used + 1)) >"$FAKE_DIR/used.$n"
  fi
  if [[ $run != - ]]; then eval "$(printf '%b' "$run")" || exit; fi
  if [[ $touch == LAST ]]; then : >"\${*: -1}"; elif [[ $touch != - ]]; then : >"$touch"; fi
  if [[ $out != - ]]; then printf '%b' "$out"; fi
  exit "$code"
done <"$FAKE_DIR/rules.tsv"
exit 0
`;

export const FAKED = ['aws', 'blkid', 'wipefs', 'mkfs.ext4', 'mount', 'umount', 'mountpoint', 'ip', 'networkctl', 'kubeadm', 'etcdctl', 'etcdutl', 'kubectl', 'helm', 'systemctl', 'curl', 'sleep', 'apt-get', 'apt-mark', 'dpkg', 'dpkg-query', 'modprobe', 'sysctl', 'swapoff', 'containerd', 'gpg', 'crictl', 'iptables', 'ip6tables'];

const encode = (text: string) => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\t/g, '\\t');

export interface CloudConfig {
  write_files: { path: string; content: string; encoding?: string }[];
  runcmd: string[][];
}

/** The commands a unit's start runs in order (ExecStartPre=, then ExecStart=), as systemd splits them on spaces. */
export function unitStartCommands(unitText: string): { key: 'ExecStartPre' | 'ExecStart'; argv: string[] }[] {
  return [...unitText.matchAll(/^(ExecStartPre|ExecStart)=(.*)$/gm)].map((m) => ({ key: m[1] as 'ExecStartPre' | 'ExecStart', argv: m[2].split(' ') }));
}

/**
 * What cloud-init and systemd do with the user data up to the bootstrap script: writes the files
 * (decoding them as write_files does), then runs node-bootstrap.service's ExecStartPre= commands
 * (fetch and unpack the bundle) with the real python3 and bash, every path under a prefix of
 * `roots` moved to its local directory.
 */
export function unpackUserData(userData: string, roots: Readonly<Record<string, string>>): CloudConfig {
  const config = parse(userData) as CloudConfig;
  const local = (path: string) => {
    const root = Object.keys(roots).find((r) => path.startsWith(r));
    return root === undefined ? undefined : roots[root] + path.slice(root.length);
  };
  for (const file of config.write_files) {
    const target = local(file.path);
    if (!target) continue;
    mkdirSync(dirname(target), { recursive: true });
    const bytes = file.encoding === 'gz+b64' ? gunzipSync(Buffer.from(file.content, 'base64')) : file.encoding === 'b64' ? Buffer.from(file.content, 'base64') : file.content;
    writeFileSync(target, bytes);
  }
  const unit = config.write_files.find((f) => f.path === '/etc/systemd/system/node-bootstrap.service')?.content ?? '';
  for (const { key, argv } of unitStartCommands(unit)) {
    if (key !== 'ExecStartPre') continue;
    const [cmd, ...args] = argv;
    // The bundle object as S3 would deliver it (what Terraform uploads): the stub still checks its SHA-256 and decodes it.
    const fetched = args[0]?.endsWith('/fetch-bundle.py') ? /^bootstrap\/(control-plane|worker)\.lzma$/.exec(args[3]) : null;
    if (fetched) writeFileSync(`${local(args[6])}.lzma`, compressedBundle(fetched[1] as 'control-plane' | 'worker'));
    const run = spawnSync(cmd, args.map((a) => local(a) ?? a), { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`ExecStartPre ${cmd} failed (${run.status}): ${run.stderr}`);
  }
  return config;
}

/**
 * The kube-apiserver manifest kubeadm init/join writes from the patches directory `dir` (ClusterConfiguration
 * extraArgs left out: ours set no flag the scripts read). `without`: patch operations adding this value are
 * left out (a node set up from older user data).
 */
export function kubeadmApiServerManifest(dir: string, without?: string): string {
  const names = existsSync(dir) ? readdirSync(dir) : [];
  const patches = Object.fromEntries(names.map((n) => [n, readFileSync(join(dir, n), 'utf8')]));
  if (without !== undefined) {
    for (const [n, text] of Object.entries(patches)) if (n.startsWith('kube-apiserver+json')) patches[n] = stringify((parse(text) as { value?: string }[]).filter((op) => op.value !== without));
  }
  return stringify(applyKubeadmPatches('kube-apiserver', kubeadmApiServerPod([]), patches));
}

/** A node in a temporary directory: the rendered files, the unpacked scripts and fake commands. */
export class FakeNode {
  readonly root = mkdtempSync(join(tmpdir(), 'node-bootstrap-'));
  readonly etc = join(this.root, 'etc');
  readonly lib = join(this.root, 'lib');
  readonly state = join(this.root, 'state');
  readonly kube = join(this.root, 'kubernetes');
  readonly fakeDir = join(this.root, 'fake');

  constructor(readonly input: UserDataInput, rules: readonly Rule[] = []) {
    unpackUserData(renderUserData(input), { '/etc/node-bootstrap/': `${this.etc}/`, '/opt/node-bootstrap/': `${this.lib}/` });
    mkdirSync(join(this.fakeDir, 'bin'), { recursive: true });
    for (const name of FAKED) {
      writeFileSync(join(this.fakeDir, 'bin', name), FAKE);
      chmodSync(join(this.fakeDir, 'bin', name), 0o755);
    }
    writeFileSync(join(this.fakeDir, 'sa.pub'), FAKE_SA_PUB);
    if (existsSync(join(this.etc, 'kubeadm-patches', 'kube-apiserver+json.yaml'))) writeFileSync(join(this.fakeDir, 'kube-apiserver.yaml'), kubeadmApiServerManifest(join(this.etc, 'kubeadm-patches')));
    mkdirSync(this.state, { recursive: true });
    mkdirSync(join(this.kube, 'pki', 'etcd'), { recursive: true });
    this.setRules(rules);
  }

  setRules(rules: readonly Rule[]): void {
    const identity: Rule[] = [
      { cmd: 'curl', args: '*api/token', stdout: 'imds-token' },
      { cmd: 'curl', args: '*meta-data/instance-id', stdout: 'i-new' },
      { cmd: 'curl', args: '*meta-data/placement/availability-zone', stdout: 'ap-northeast-2b' },
      { cmd: 'curl', args: '*meta-data/local-ipv4', stdout: '10.20.1.20' },
      { cmd: 'curl', args: '*meta-data/local-hostname', stdout: 'ip-10-20-1-20.ap-northeast-2.compute.internal' },
      { cmd: 'curl', args: '*meta-data/mac', stdout: '0a:1b:2c:3d:4e:5f' },
      { cmd: 'curl', args: '*meta-data/network/interfaces/macs/0a:1b:2c:3d:4e:5f/vpc-id', stdout: 'vpc-0abc' },
      { cmd: 'curl', args: '*meta-data/network/interfaces/macs/0a:1b:2c:3d:4e:5f/subnet-id', stdout: 'subnet-0def' },
    ];
    const lines = [...rules, ...identity].map((r) =>
      [r.cmd, r.args, r.exit ?? 0, r.stdout === undefined ? '-' : encode(r.stdout), r.touchLastArg ? 'LAST' : (r.creates ?? '-'), r.times ?? 0, r.run === undefined ? '-' : encode(r.run)].join('\t'),
    );
    writeFileSync(join(this.fakeDir, 'rules.tsv'), `${lines.join('\n')}\n`);
  }

  /**
   * A control-plane node past kubeadm init/join in the steady state: the kube-apiserver manifest kubeadm
   * wrote and the key bundle it names as service-account-issuer.sh key-set writes it (sa.pub alone).
   */
  writeApiServerManifest(): void {
    mkdirSync(join(this.kube, 'manifests'), { recursive: true });
    writeFileSync(join(this.kube, 'manifests', 'kube-apiserver.yaml'), readFileSync(join(this.fakeDir, 'kube-apiserver.yaml')));
    writeFileSync(join(this.kube, 'pki', 'sa-bundle.pub'), readFileSync(join(this.kube, 'pki', 'sa.pub')));
  }

  file(path: string): string {
    return readFileSync(path, 'utf8');
  }

  exists(path: string): boolean {
    return existsSync(path);
  }

  /** Runs a shipped script; returns its exit code, stderr and the commands it issued. */
  run(script: string, args: readonly string[] = [], env: Record<string, string> = {}) {
    const result = spawnSync('bash', [join(this.lib, script), ...args], { encoding: 'utf8', env: this.prepareRun(env) });
    return this.collect(result.status, result.stderr, result.stdout);
  }

  /**
   * Like `run`, but in the background: for two nodes running a script at the same time, and for any
   * test whose scripts run for long (a test body blocking the event loop > 60 s times out vitest's worker RPC).
   */
  runAsync(script: string, args: readonly string[] = [], env: Record<string, string> = {}): Promise<ReturnType<FakeNode['run']>> {
    // stdin at EOF as spawnSync leaves it: an open pipe would hang a command that reads it.
    const child = spawn('bash', [join(this.lib, script), ...args], { env: this.prepareRun(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    // Decoded as a stream: a multi-byte character split between chunks stays whole.
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (status) => resolve(this.collect(status, stderr, stdout)));
    });
  }

  private prepareRun(env: Record<string, string>): NodeJS.ProcessEnv {
    writeFileSync(join(this.fakeDir, 'calls.log'), '');
    rmSync(join(this.fakeDir, 'stdin'), { recursive: true, force: true });
    mkdirSync(join(this.fakeDir, 'stdin'));
    return {
      PATH: `${join(this.fakeDir, 'bin')}:${process.env.PATH ?? ''}`,
      HOME: this.root,
      FAKE_DIR: this.fakeDir,
      // cgroup2 as the netfilter fake keeps it (node-prep's IMDS fence reads the pod slice's id there).
      CGROUP2_ROOT: join(this.fakeDir, 'cgroup'),
      BOOTSTRAP_LIB: this.lib,
      BOOTSTRAP_ETC: this.etc,
      STATE_DIR: this.state,
      KUBE_DIR: this.kube,
      ETCD_DATA_DIR: join(this.root, 'etcd'),
      BOOTSTRAP_NOW_EPOCH: String(Date.UTC(2025, 5, 30, 12, 0, 0) / 1000),
      ...env,
    };
  }

  private collect(status: number | null, stderr: string, stdout: string) {
    const calls = this.file(join(this.fakeDir, 'calls.log')).split('\n').filter(Boolean);
    // What each call read on stdin (only calls whose last argument is "-"), aligned with `calls`.
    const stdin = calls.map((_, i) => (existsSync(join(this.fakeDir, 'stdin', String(i + 1))) ? this.file(join(this.fakeDir, 'stdin', String(i + 1))) : undefined));
    return { status, stderr, stdout, calls, stdin };
  }
}

/** `aws ssm get-parameter` of a parameter that does not exist, answered like the real CLI (exit 254, ParameterNotFound on stderr). */
export function parameterNotFound(name: string, operation = 'get-parameter'): Rule {
  return { cmd: 'aws', args: `ssm ${operation} * --name ${name} *`, exit: 254, run: `echo "An error occurred (ParameterNotFound) when calling an SSM operation: parameter ${name} not found" >&2` };
}

/**
 * Parameter Store as the AWS CLI sees it, kept in a directory (shared by several FakeNodes to
 * model one account): `put-parameter` creates a parameter at version 1 and fails with
 * ParameterAlreadyExists when it exists unless `--overwrite`, which bumps the version; a
 * SecureString without `--key-id` is encrypted with `alias/aws/ssm`, and without
 * `--with-decryption` a read returns ciphertext, not the value; `get-parameter` and
 * `delete-parameter` of a missing name fail with ParameterNotFound (exit 254, as the CLI).
 * Creation is atomic (mkdir), so racing nodes see exactly one winner. Rules placed before
 * these still answer first (a throttled read, a denied delete).
 */
export function ssmStore(dir: string): Rule[] {
  const parse = `store=${JSON.stringify(dir)}; op=$2; shift 2; name= value= type=String key= overwrite= decrypt= query=
while (($#)); do case $1 in --name) name=$2; shift 2 ;; --value) value=$2; shift 2 ;; --type) type=$2; shift 2 ;; --key-id) key=$2; shift 2 ;; --query) query=$2; shift 2 ;; --overwrite) overwrite=1; shift ;; --with-decryption) decrypt=1; shift ;; *) shift ;; esac; done
d="$store/\${name//\//%2F}"; mkdir -p "$store"
missing() { echo "An error occurred (ParameterNotFound) when calling the $1 operation: " >&2; exit 254; }
`;
  const put = `${parse}
[[ $value != file://* ]] || value=$(cat "\${value#file://}")
if [[ -n $overwrite ]]; then mkdir -p "$d"; else
  mkdir "$d" 2>/dev/null || { echo "An error occurred (ParameterAlreadyExists) when calling the PutParameter operation: The parameter already exists. To overwrite this value, set the overwrite option in the request to true." >&2; exit 254; }
fi
[[ $type != SecureString || -n $key ]] || key=alias/aws/ssm
version=$(($(cat "$d/version" 2>/dev/null || echo 0) + 1))
printf '%s' "$value" >"$d/value.tmp" && mv "$d/value.tmp" "$d/value"
printf '%s' "$type" >"$d/type"; printf '%s' "$key" >"$d/key"
date -u -d "@\${BOOTSTRAP_NOW_EPOCH:-0}" +%Y-%m-%dT%H:%M:%S.000000+00:00 >"$d/modified"
echo "$version" >"$d/version"
printf '{"Version": %s, "Tier": "Standard"}\n' "$version"; exit 0`;
  const get = `${parse}
[[ -f $d/version ]] || missing GetParameter
value=$(cat "$d/value")
[[ $(cat "$d/type") != SecureString || -n $decrypt ]] || value="AQICAH$(printf '%s' "$value" | base64 -w0)"
case $query in
  Parameter.Value) printf '%s\n' "$value" ;;
  Parameter.LastModifiedDate) cat "$d/modified" ;;
  Parameter.Version) cat "$d/version" ;;
  *) printf '{"Parameter": {"Name": "%s", "Type": "%s", "Value": "%s", "Version": %s}}\n' "$name" "$(cat "$d/type")" "$value" "$(cat "$d/version")" ;;
esac; exit 0`;
  const remove = `${parse}
[[ -f $d/version ]] || missing DeleteParameter
rm -rf "$d"; exit 0`;
  return [
    { cmd: 'aws', args: 'ssm put-parameter *', run: put },
    { cmd: 'aws', args: 'ssm get-parameter *', run: get },
    { cmd: 'aws', args: 'ssm delete-parameter *', run: remove },
  ];
}

/** A parameter of an `ssmStore` directory as SSM holds it, or undefined when it does not exist. */
export function storedParameter(dir: string, name: string): { value: string; type: string; keyId: string; version: number } | undefined {
  const d = join(dir, name.replace(/\//g, '%2F'));
  if (!existsSync(join(d, 'version'))) return undefined;
  const read = (file: string) => readFileSync(join(d, file), 'utf8');
  return { value: read('value'), type: read('type'), keyId: read('key'), version: Number(read('version').trim()) };
}

/** An AWS CLI failure other than "not found": exit 254 with the error code on stderr. */
export function awsError(args: string, code: string, times?: number): Rule {
  return { cmd: 'aws', args, exit: 254, times, run: `echo "An error occurred (${code}) when calling the operation: rate exceeded or denied" >&2` };
}

/** Only the calls of the given commands (identity reads and sleeps are noise in most assertions). */
export function callsOf(calls: readonly string[], ...commands: string[]): string[] {
  return calls.filter((c) => commands.includes(c.split(' ')[0]));
}

/** Loud skip locally, failure in CI, when a required tool is missing. */
export function requireTool(tool: string): boolean {
  const found = spawnSync('bash', ['-c', `command -v ${tool}`]).status === 0;
  if (!found) {
    const message = `SKIPPED: ${tool} is not installed (apt-get install ${tool}); its checks did not run`;
    if (process.env.CI === 'true') throw new Error(message);
    console.warn(`\n${'!'.repeat(70)}\n${message}\n${'!'.repeat(70)}`);
  }
  return found;
}

/**
 * Control-plane nodes past `kubeadm init` (an admin kubeconfig exists), for install-addons.sh
 * scenarios; every node made by the returned function is removed after each test.
 */
export function initialisedControlPlanes(): (input: UserDataInput, rules: Rule[]) => FakeNode {
  const nodes: FakeNode[] = [];
  afterEach(() => nodes.splice(0).forEach((n) => rmSync(n.root, { recursive: true, force: true })));
  return (input, rules) => {
    const n = new FakeNode(input, rules);
    writeFileSync(join(n.kube, 'admin.conf'), '');
    nodes.push(n);
    return n;
  };
}

/** Fake nodes and shared directories (a cluster's state, a bucket) removed after each test. */
export function scratch() {
  const roots: string[] = [];
  afterEach(() => roots.splice(0).forEach((r) => rmSync(r, { recursive: true, force: true })));
  return {
    node: (input: UserDataInput, rules: readonly Rule[] = []) => {
      const n = new FakeNode(input, rules);
      roots.push(n.root);
      return n;
    },
    dir: (prefix: string) => {
      const d = mkdtempSync(join(tmpdir(), prefix));
      roots.push(d);
      return d;
    },
  };
}

/** A Secret as install-addons.sh pipes it to `kubectl apply -f -`. */
export interface SecretManifest {
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly type?: string;
  readonly data: Readonly<Record<string, string>>;
}

/** The restore role an operator names in RESTORE_ROLE_ARN (aws-cluster SnapshotRestoreRole). */
export const RESTORE_ROLE_ARN = `arn:aws:iam::123456789012:role/${platform.namesOf('production').etcdRestoreRole}`;
export const RESTORE_ROLE_KEY_ID = 'ASIAFAKERESTOREROLE';

/**
 * STS and S3 for `etcd-restore.sh request`: assume-role of RESTORE_ROLE_ARN answers temporary
 * credentials (text output, as `--query Credentials.[...] --output text` prints them); another
 * role is AccessDenied. `s3 presign` prints a URL of the object carrying the signer's key id, and
 * `s3api head-object`/`list-objects-v2` fail with AccessDenied unless called with the restore
 * role's credentials: the operator's own (or a node's) cannot read snapshots.
 */
export function restoreRoleRules(listing?: string): Rule[] {
  const denied = 'echo "An error occurred (AccessDenied) when calling the operation: not the restore role" >&2; exit 254';
  return [
    { cmd: 'aws', args: `sts assume-role * --role-arn ${RESTORE_ROLE_ARN} *`, stdout: `${RESTORE_ROLE_KEY_ID}\tfake-restore-secret\tfake-restore-session-token\n` },
    { cmd: 'aws', args: 'sts assume-role *', exit: 254, run: 'echo "An error occurred (AccessDenied) when calling the AssumeRole operation" >&2' },
    { cmd: 'aws', args: 's3 presign s3://*', run: `[[ \${AWS_ACCESS_KEY_ID:-} == ${RESTORE_ROLE_KEY_ID} ]] || { ${denied}; }; o=\${3#s3://}; printf 'https://%s.s3.ap-northeast-2.amazonaws.com/%s?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=%s%%2F20250630%%2Fap-northeast-2%%2Fs3%%2Faws4_request&X-Amz-Expires=%s&X-Amz-Security-Token=t&X-Amz-Signature=abc\\n' "\${o%%/*}" "\${o#*/}" "$AWS_ACCESS_KEY_ID" "\${*: -1}"` },
    { cmd: 'aws', args: 's3api head-object *', run: `[[ \${AWS_ACCESS_KEY_ID:-} == ${RESTORE_ROLE_KEY_ID} ]] || { ${denied}; }` },
    ...(listing === undefined ? [] : [{ cmd: 'aws', args: 's3api list-objects-v2 *', run: `[[ \${AWS_ACCESS_KEY_ID:-} == ${RESTORE_ROLE_KEY_ID} ]] || { ${denied}; }; printf '%b\\n' ${JSON.stringify(listing)}` }]),
  ];
}

/**
 * test/fake-s3-server.py serving `root` (objects at `<root>/<bucket>/<key>`), killed after the
 * test; answers 503 to the first `failFirst` requests.
 */
export async function startFakeS3(root: string, failFirst = 0): Promise<string> {
  const server = spawn('python3', [join(__dirname, 'fake-s3-server.py'), root, 'ap-northeast-2', String(failFirst)]);
  afterEachKill.push(server);
  const port = await new Promise<string>((resolve, reject) => {
    server.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()));
    server.once('exit', (code) => reject(new Error(`fake S3 exited ${code}`)));
  });
  return `http://127.0.0.1:${port}`;
}
const afterEachKill: ReturnType<typeof spawn>[] = [];
afterEach(() => afterEachKill.splice(0).forEach((s) => s.kill()));
