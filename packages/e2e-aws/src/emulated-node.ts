import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { KUBE_APISERVER_PATCH_FILE, KUBEADM_PATCHES_DIR } from '@platform/node-bootstrap';
import { applyAttachedDevices, HOST_STUBS, hostStubScript, type AttachedDevices } from './host-devices';
import { dieWithParent } from './moto';

/** What IMDS would tell the node: read from moto's describe-instances. */
export interface InstanceIdentity {
  readonly instanceId: string;
  readonly availabilityZone: string;
  readonly privateIp: string;
  readonly privateDnsName: string;
  /** The cloud controller's provider config (control-plane.sh) names them. */
  readonly vpcId: string;
  readonly subnetId: string;
  readonly asg: string;
  /** The primary ENI's MAC (IMDS `mac`, `ens5`'s address). */
  readonly mac: string;
  /** The subnet's router (its base address + 1), the default route's gateway. */
  readonly gateway: string;
}

interface CloudConfig {
  write_files: { path: string; content: string; encoding?: string }[];
}

/** Where cloud-init's paths land in the node's directory; files elsewhere (systemd units) are not written. */
const ROOTS: Readonly<Record<string, string>> = { '/etc/node-bootstrap/': 'etc/', '/opt/node-bootstrap/': 'lib/' };

/**
 * The binaries the run does not exercise, as small models (never `aws`: the real CLI talks to
 * moto). curl answers only IMDSv2 (token first, then the token on every read), from the
 * instance moto created. kubeadm, etcdctl and systemctl keep the state a node would see
 * (the PKI files, admin.conf, the etcd member list shared by the cluster's nodes) and answer
 * in the formats the scripts parse. kubectl and helm fail: the Kubernetes API is not emulated.
 */
const STUBS: Readonly<Record<string, string>> = {
  curl: `case "$*" in
  *'-X PUT'*'http://169.254.169.254/latest/api/token') echo e2e-imds-token; exit ;;
esac
[[ $* == *'X-aws-ec2-metadata-token: e2e-imds-token'* ]] || { echo "IMDSv2: 401 without a session token: $*" >&2; exit 22; }
case "\${*: -1}" in
  http://169.254.169.254/latest/meta-data/instance-id) echo "$E2E_INSTANCE_ID" ;;
  http://169.254.169.254/latest/meta-data/placement/availability-zone) echo "$E2E_AZ" ;;
  http://169.254.169.254/latest/meta-data/local-ipv4) echo "$E2E_IP" ;;
  http://169.254.169.254/latest/meta-data/local-hostname) echo "$E2E_DNS" ;;
  http://169.254.169.254/latest/meta-data/mac) echo "$E2E_MAC" ;;
  "http://169.254.169.254/latest/meta-data/network/interfaces/macs/$E2E_MAC/vpc-id") echo "$E2E_VPC" ;;
  "http://169.254.169.254/latest/meta-data/network/interfaces/macs/$E2E_MAC/subnet-id") echo "$E2E_SUBNET" ;;
  # InService until the run terminates the node through its ASG (a node's ExecStop then leaves).
  http://169.254.169.254/latest/meta-data/autoscaling/target-lifecycle-state) echo "\${E2E_TARGET_LIFECYCLE_STATE:-InService}" ;;
  *) echo "curl: only IMDS is emulated, not $*" >&2; exit 22 ;;
esac`,
  kubeadm: `pki() { mkdir -p "$KUBE_DIR/pki/etcd"; for f in ca.crt ca.key front-proxy-ca.crt front-proxy-ca.key etcd/ca.crt etcd/ca.key; do echo "e2e $f" >"$KUBE_DIR/pki/$f"; done; sa; cp "$E2E_SHARED/sa.key" "$E2E_SHARED/sa.pub" "$KUBE_DIR/pki/"; echo e2e >"$KUBE_DIR/admin.conf"; }
# One real service-account key pair per cluster (service-account-issuer.sh builds the JWKS from sa.pub).
sa() { [[ -s $E2E_SHARED/sa.pub ]] || { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$E2E_SHARED/sa.key.$$" 2>/dev/null && openssl pkey -in "$E2E_SHARED/sa.key.$$" -pubout -out "$E2E_SHARED/sa.pub.$$" && mv "$E2E_SHARED/sa.key.$$" "$E2E_SHARED/sa.key" && mv "$E2E_SHARED/sa.pub.$$" "$E2E_SHARED/sa.pub"; }; }
hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \\n'; }
# The kube-apiserver static pod as far as service-account-issuer.sh ack reads it: kubeadm's own key
# file, then what the node's kubeadm patch appends (the flag lines of its RFC 6902 operations).
manifest() { mkdir -p "$KUBE_DIR/manifests"; { printf 'spec:\n  containers:\n  - command:\n    - kube-apiserver\n    - --service-account-key-file=/etc/kubernetes/pki/sa.pub\n'; grep -oE -- '--service-account-key-file=[^"[:space:]]+' "$BOOTSTRAP_ETC/${posix.relative('/etc/node-bootstrap', KUBEADM_PATCHES_DIR)}/${KUBE_APISERVER_PATCH_FILE}" | sed 's/^/    - /'; } >"$KUBE_DIR/manifests/kube-apiserver.yaml"; }
# etcd's member at the config's advertiseAddress (kubeadm's etcd listens and advertises there), its data
# in the data dir, and the static pod's manifest naming that address (etcdctl endpoint status reads it).
config() { local prev='' a; for a; do [[ $prev == --config ]] && { echo "$a"; return; }; prev=$a; done; }
member() {
  local ip
  ip=$(sed -n 's/^ *advertiseAddress: *//p' "$(config "$@")" | head -n1 | tr -d "'\\"")
  [[ -n $ip ]] || { echo "kubeadm: no advertiseAddress in $(config "$@")" >&2; exit 1; }
  echo "$(tr -d . <<<"$ip"), started, $E2E_DNS, https://$ip:2380, https://$ip:2379, false" >>"$E2E_SHARED/etcd-members"
  mkdir -p "$ETCD_DATA_DIR/member/wal" "$KUBE_DIR/manifests"
  printf '    - --advertise-client-urls=https://%s:2379\\n' "$ip" >"$KUBE_DIR/manifests/etcd.yaml"
}
# kubeadm's flag parsing for init, join and reset: any flag the modelled command does not take is
# "unknown flag" (cobra), a --skip-phases name not among the command's phases "invalid phase name"
# (kubeadm's workflow runner); --ignore-preflight-errors names are case-insensitive.
INIT_PHASES=preflight,certs,kubeconfig,etcd,control-plane,kubelet-start,wait-control-plane,upload-config,upload-certs,mark-control-plane,bootstrap-token,kubelet-finalize,addon,show-join-command
JOIN_PHASES=preflight,control-plane-prepare,control-plane-prepare/download-certs,control-plane-prepare/certs,control-plane-prepare/kubeconfig,control-plane-prepare/control-plane,kubelet-start,control-plane-join,control-plane-join/etcd,control-plane-join/mark-control-plane,wait-control-plane
RESET_PHASES=preflight,remove-etcd-member,cleanup-node
parse() {
  local allowed=" $1 " phases=",$2," a name value p; shift 2
  SKIP=, IGNORE=,
  while (($#)); do
    a=$1 name=\${1%%=*}; shift
    [[ $a == --* && $allowed == *" $name "* ]] || { echo "unknown flag: $name" >&2; exit 1; }
    case $name in
      --config|--skip-phases|--ignore-preflight-errors)
        if [[ $a == *=* ]]; then value=\${a#*=}; else (($#)) || { echo "flag needs an argument: $name" >&2; exit 1; }; value=$1; shift; fi ;;
      *) [[ $a != *=* ]] || { echo "$name takes no value in this model: $a" >&2; exit 1; } ;;
    esac
    case $name in
      --skip-phases) for p in \${value//,/ }; do [[ $phases == *",$p,"* ]] || { echo "invalid phase name: $p" >&2; exit 1; }; SKIP+="$p,"; done ;;
      --ignore-preflight-errors) IGNORE+="\${value,,}," ;;
    esac
  done
}
# kubeadm's control-plane preflight as far as the node's data dir goes: etcd's must be empty unless
# DirAvailable--var-lib-etcd (or all) is ignored or the preflight phase skipped.
preflight() {
  [[ $SKIP != *,preflight,* && $IGNORE != *,diravailable--var-lib-etcd,* && $IGNORE != *,all,* ]] || return 0
  [[ -z $(ls -A "$ETCD_DATA_DIR" 2>/dev/null) ]] && return 0
  printf '[preflight] Some fatal errors occurred:\\n\\t[ERROR DirAvailable--var-lib-etcd]: /var/lib/etcd is not empty\\n' >&2
  exit 1
}
# kubeadm reset --force: remove-etcd-member hands the local etcd's data dir (from its static pod) to
# cleanup-node, which empties it; cleanup-node removes the manifests, PKI and kubeconfig files.
reset_node() {
  if [[ $SKIP != *,remove-etcd-member,* && -f $KUBE_DIR/manifests/etcd.yaml ]]; then
    local ip
    ip=$(sed -n 's|.*--advertise-client-urls=https://\\([^:]*\\):.*|\\1|p' "$KUBE_DIR/manifests/etcd.yaml")
    [[ -z $ip ]] || { grep -v ", https://$ip:2380," "$E2E_SHARED/etcd-members" >"$E2E_SHARED/m.$$"; mv "$E2E_SHARED/m.$$" "$E2E_SHARED/etcd-members"; }
    find "$ETCD_DATA_DIR" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
  fi
  [[ $SKIP == *,cleanup-node,* ]] && return 0
  # Both directories emptied, not removed (kubeadm's CleanDir).
  find "$KUBE_DIR/manifests" "$KUBE_DIR/pki" -mindepth 1 -maxdepth 1 -exec rm -rf {} + 2>/dev/null
  rm -f "$KUBE_DIR"/{admin,super-admin,kubelet,bootstrap-kubelet,controller-manager,scheduler}.conf
}
case "$*" in
  'certs certificate-key') hex 32; echo ;;
  'reset --force'*) parse '--force --skip-phases' "$RESET_PHASES" "\${@:2}"; reset_node ;;
  'init --config'*)
    parse '--config --upload-certs --skip-token-print --skip-certificate-key-print --skip-phases --ignore-preflight-errors' "$INIT_PHASES" "\${@:2}"
    preflight
    # The first init of the run is the initialiser that dies: it hangs until the run kills it.
    if mkdir "$E2E_SHARED/first-init" 2>/dev/null; then echo "$E2E_INSTANCE_ID" >"$E2E_SHARED/first-init/holder"; exec sleep 600; fi
    pki; manifest; member "$@"; head -c 32 /dev/urandom | sha256sum | cut -d' ' -f1 >"$E2E_SHARED/ca-hash" ;;
  # kubeadm's sa phase before init (service-account-issuer.sh key-set reads sa.pub); keeps an existing key.
  'init phase certs sa'*) mkdir -p "$KUBE_DIR/pki"; [[ -s $KUBE_DIR/pki/sa.key ]] || { sa; cp "$E2E_SHARED/sa.key" "$E2E_SHARED/sa.pub" "$KUBE_DIR/pki/"; } ;;
  'init phase upload-certs'*) for _ in $(seq 600); do [[ -e $E2E_SHARED/hold-upload-certs ]] || exit 0; sleep 0.2; done; exit 1 ;;
  'token create'*) echo "kubeadm join $API_ENDPOINT:6443 --token $(hex 3).$(hex 8) --discovery-token-ca-cert-hash sha256:$(cat "$E2E_SHARED/ca-hash")" ;;
  'join phase control-plane-prepare download-certs'*) pki ;;
  'join phase control-plane-prepare certs'*) ;;
  'join --config'*) parse '--config --skip-phases --ignore-preflight-errors' "$JOIN_PHASES" "\${@:2}"; preflight; manifest; member "$@" ;;
  *) echo "kubeadm: $* is not modelled" >&2; exit 1 ;;
esac`,
  etcdctl: `case "$*" in
  *'member list'*) cat "$E2E_SHARED/etcd-members" ;;
  *'member remove '*) id=\${*: -1}; grep -v "^$id," "$E2E_SHARED/etcd-members" >"$E2E_SHARED/m.tmp"; mv "$E2E_SHARED/m.tmp" "$E2E_SHARED/etcd-members"; echo "Member $id removed" ;;
  *'endpoint status -w json'*) echo "[{\\"Endpoint\\":\\"https://127.0.0.1:2379\\",\\"Status\\":{\\"header\\":{\\"member_id\\":$(sed -n 's|.*--advertise-client-urls=https://\\([^:]*\\):.*|\\1|p' "$KUBE_DIR/manifests/etcd.yaml" | tr -d .)},\\"leader\\":$(head -n1 "$E2E_SHARED/etcd-members" | cut -d, -f1)}}]" ;;
  *'snapshot save '*) echo "e2e etcd snapshot of $E2E_INSTANCE_ID" >"\${*: -1}" ;;
  *) echo "etcdctl: $* is not modelled" >&2; exit 1 ;;
esac`,
  systemctl: ':',
  kubectl: 'echo "kubectl: no Kubernetes API in the emulated run ($*)" >&2; exit 1',
  helm: 'echo "helm: no Kubernetes API in the emulated run ($*)" >&2; exit 1',
};

export const STUBBED_BINARIES = [...Object.keys(STUBS), ...Object.keys(HOST_STUBS)];

/** A finished script run. */
export interface ScriptResult {
  readonly code: number;
  readonly stderr: string;
}

/** A script running on a node; `kill()` ends its whole process group (the node dies). */
export interface RunningScript {
  readonly done: Promise<ScriptResult>;
  stderrSoFar(): string;
  kill(): void;
}

/**
 * One control-plane node in a directory: the files of its real user data (read from moto's
 * launch template) written and unpacked as cloud-init does, its identity from moto's
 * instance, the real scripts run with the real AWS CLI against moto.
 */
export class EmulatedNode {
  readonly env: Readonly<Record<string, string>>;

  constructor(
    readonly root: string,
    readonly identity: InstanceIdentity,
    userData: string,
    readonly shared: string,
    base: NodeJS.ProcessEnv,
    /**
     * The role's bundle object as S3 holds it, placed where fetch-bundle.py keeps a fetched one
     * (it still checks the SHA-256). @default undefined: the stub fetches it from the emulated S3
     */
    bundle?: Buffer,
  ) {
    const config = parse(userData) as CloudConfig;
    const local = (path: string) => {
      const prefix = Object.keys(ROOTS).find((r) => path.startsWith(r));
      return prefix === undefined ? undefined : join(root, ROOTS[prefix], path.slice(prefix.length));
    };
    for (const file of config.write_files) {
      const target = local(file.path);
      if (!target) continue;
      mkdirSync(dirname(target), { recursive: true });
      const raw = Buffer.from(file.content, file.encoding ? 'base64' : 'utf8');
      writeFileSync(target, file.encoding === 'gz+b64' ? gunzipSync(raw) : raw);
    }
    // cloud-init only starts node-bootstrap.service; its ExecStartPre= lines fetch and unpack the bundle.
    const unit = config.write_files.find((f) => f.path === '/etc/systemd/system/node-bootstrap.service')?.content ?? '';
    for (const [, line] of unit.matchAll(/^ExecStartPre=(.*)$/gm)) {
      const [cmd, ...args] = line.split(' ');
      if (bundle && args[0]?.endsWith('/fetch-bundle.py')) writeFileSync(`${local(args[6])}.lzma`, bundle);
      // The run's environment: AWS_ENDPOINT_URL and the dummy credentials reach fetch-bundle.py.
      const run = spawnSync(cmd, args.map((a) => local(a) ?? a), { encoding: 'utf8', env: base });
      if (run.status !== 0) throw new Error(`ExecStartPre ${cmd} of ${identity.instanceId} failed (${run.status}): ${run.stderr}`);
    }
    // The one absolute path a script writes outside the directories lib.sh lets move.
    const envFile = join(root, 'etc/env');
    writeFileSync(envFile, readFileSync(envFile, 'utf8').replace(/^SNAPSHOT_METRIC_FILE=.*$/m, `SNAPSHOT_METRIC_FILE='${join(root, 'textfile/etcd_snapshot.prom')}'`));
    mkdirSync(join(root, 'bin'), { recursive: true });
    for (const [name, body] of Object.entries(STUBS)) {
      writeFileSync(join(root, 'bin', name), `#!/usr/bin/env bash\nset -uo pipefail\n${body}\n`);
      chmodSync(join(root, 'bin', name), 0o755);
    }
    for (const [name, body] of Object.entries(HOST_STUBS)) {
      writeFileSync(join(root, 'bin', name), hostStubScript(name, body));
      chmodSync(join(root, 'bin', name), 0o755);
    }
    // Nodes install AWS CLI v2, which prints timestamps as ISO 8601; v1 (from PyPI here)
    // prints the wire's epoch seconds unless told (join-material.sh parses LastModifiedDate).
    writeFileSync(join(root, 'aws-config'), '[default]\ncli_timestamp_format = iso8601\n');
    mkdirSync(join(root, 'state'), { recursive: true });
    // What the kernel shows at boot: the primary ENI (device index 0); later attachments follow moto (showDevices).
    this.showDevices({ NetworkInterfaces: [{ MacAddress: identity.mac, Attachment: { DeviceIndex: 0, Status: 'attached' } }] });
    // install-addons.sh needs a Kubernetes API, which nothing emulates: marked done, not run.
    writeFileSync(join(root, 'state/core-addons.done'), '');
    this.env = {
      PATH: `${join(root, 'bin')}:${base.PATH ?? ''}`,
      HOME: root,
      BOOTSTRAP_LIB: join(root, 'lib'),
      BOOTSTRAP_ETC: join(root, 'etc'),
      STATE_DIR: join(root, 'state'),
      KUBE_DIR: join(root, 'kubernetes'),
      ETCD_DATA_DIR: join(root, 'etcd'),
      AWS_CONFIG_FILE: join(root, 'aws-config'),
      RETRY_SLEEP_SECONDS: '1',
      // The host as etcd-slot.sh sees it: devices from what EC2 attached (showDevices), unit files here.
      DISK_BY_ID: join(root, 'dev/disk/by-id'),
      SYS_NET: join(root, 'sys/class/net'),
      SYSTEMD_DIR: join(root, 'systemd/system'),
      NETWORKD_DIR: join(root, 'systemd/network'),
      E2E_NODE: root,
      E2E_MAC: identity.mac,
      E2E_GATEWAY: identity.gateway,
      E2E_SHARED: shared,
      E2E_INSTANCE_ID: identity.instanceId,
      E2E_AZ: identity.availabilityZone,
      E2E_IP: identity.privateIp,
      E2E_DNS: identity.privateDnsName,
      E2E_VPC: identity.vpcId,
      E2E_SUBNET: identity.subnetId,
    };
  }

  /** Shows the node's kernel what EC2 (moto's describe-instances of this instance) says is attached. */
  showDevices(instance: AttachedDevices): void {
    applyAttachedDevices(instance, { diskById: join(this.root, 'dev/disk/by-id'), sysNet: join(this.root, 'sys/class/net'), ebsDir: join(this.shared, 'ebs') });
  }

  /** `KEY` of the node's env file (the parameters cloud-init wrote). */
  param(key: string): string {
    const m = new RegExp(`^${key}=(.*)$`, 'm').exec(readFileSync(join(this.root, 'etc/env'), 'utf8'));
    if (!m) throw new Error(`${this.identity.instanceId}: no ${key} in the env file`);
    return m[1].replace(/^'(.*)'$/, '$1');
  }

  file(relative: string): string {
    const path = join(this.root, relative);
    return existsSync(path) ? readFileSync(path, 'utf8') : '';
  }

  /** Starts `bash lib/<script> args` in its own process group, stderr also to `<logFile>`. */
  start(script: string, args: readonly string[], base: NodeJS.ProcessEnv, logFile: string, extra: Record<string, string> = {}): RunningScript {
    const [command, ...prefix] = [...dieWithParent('KILL'), 'bash'];
    const child: ChildProcess = spawn(command, [...prefix, join(this.root, 'lib', script), ...args], {
      env: { ...base, ...this.env, ...extra },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<ScriptResult>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => {
        writeFileSync(logFile, `$ ${script} ${args.join(' ')} on ${this.identity.instanceId}\n${stderr}`);
        resolve({ code: code ?? (signal ? 128 : 1), stderr });
      });
    });
    return {
      done,
      stderrSoFar: () => stderr,
      kill: () => {
        if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // the group is already gone
        }
      },
    };
  }
}
