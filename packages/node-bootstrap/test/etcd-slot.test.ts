import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { renderUserData, type UserDataInput } from '../src';
import { networkdRules, networkSections, routingTable } from './routing-model';
import { callsOf, inputFor, scratch, ssmStore, type CloudConfig, type FakeNode, type Rule } from './harness';

/*
 * The etcd slot (docs/decisions/etcd-volumes.md): each control-plane ASG's etcd volume and member
 * address, against models of EC2's volumes and ENIs as the node sees them (fakes/ec2-slots.sh:
 * asynchronous attachment, in-use refusals, NVMe devices by serial, interfaces by MAC, filesystems
 * that survive the instance), of the account's instances (fakes/asg.sh) and of etcd's membership
 * (fakes/etcd.sh). Nodes run the real control-plane.sh; one world is one account and one cluster,
 * shared by the nodes a test boots one after the other.
 */

// Each test blocks its worker in spawnSync for up to half a minute: one event-loop turn between tests
// lets the worker read vitest's RPC replies, which otherwise time out ("Timeout calling onTaskUpdate")
// on a loaded machine once several such tests run back to back.
afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)));

const SLOTS_MODEL = join(__dirname, 'fakes', 'ec2-slots.sh');
const ASG_MODEL = join(__dirname, 'fakes', 'asg.sh');
const ETCD_MODEL = join(__dirname, 'fakes', 'etcd.sh');
const KEY = 'a'.repeat(64);
const temporary = scratch();
const production = inputFor('production', 'control-plane');
const names = production.names;

/** The member address of each slot (its ENI's private IP). */
const ADDRESS: Record<string, string> = { a: '10.20.0.100', b: '10.20.1.100', c: '10.20.2.100', a2: '10.20.0.101', b2: '10.20.1.101', c2: '10.20.2.101' };
const asg = (slot: string) => `production-control-plane-${slot}`;

interface Identity {
  readonly id: string;
  readonly ip: string;
}

const hostname = (ip: string) => `ip-${ip.replace(/\./g, '-')}.ap-northeast-2.compute.internal`;

function world(input: UserDataInput = production, dns = true) {
  const aws = temporary.dir('ec2-');
  const etcd = temporary.dir('etcd-');
  const store = temporary.dir('ssm-');
  const disks = temporary.dir('by-id-');
  mkdirSync(join(aws, 'instances'));
  mkdirSync(join(aws, 'volumes'));
  mkdirSync(join(aws, 'enis'));
  mkdirSync(join(etcd, 'members'));
  const line = (file: string, text: string) => writeFileSync(file, `${text}\n`);
  const self = {
    instance(id: string, ip: string, slot: string | undefined, ec2 = 'running', lifecycle = 'InService') {
      line(join(aws, 'instances', id), `${ip} ${ec2} ${slot ? asg(slot) : '-'} ${lifecycle}`);
      // The VPC's DNS (enableDnsSupport, enableDnsHostnames) resolves the EC2 hostname, which kubeadm's
      // peer certificate names, to the primary address: etcd's DNS fallback of its SAN check (fakes/etcd.sh).
      if (dns) writeFileSync(join(etcd, 'hosts'), `${hostname(ip)} ${ip}\n`, { flag: 'a' });
      return self;
    },
    /** A slot's volume and address; `holder` keeps both until `freesAfter` Describes (-1: never). */
    slot(slot: string, opts: { holder?: string; freesAfter?: number; volume?: 'blank' | 'none' } = {}) {
      const held = opts.holder ? `in-use ${opts.holder} attached` : 'available - -';
      const frees = opts.freesAfter ?? -1;
      if (opts.volume !== 'none') line(join(aws, 'volumes', `vol-${slot}`), `${held} ${asg(slot)} ${frees}`);
      line(join(aws, 'enis', `eni-${slot}`), `${held} ${asg(slot)} ${ADDRESS[slot]} 0a:00:00:00:00:${slot.charCodeAt(0).toString(16)} ${frees} production`);
      return self;
    },
    member(id: string, ip: string, running = true) {
      line(join(etcd, 'members', id), `ip-${ip.replace(/\./g, '-')} ${ip} 1 ${running ? 1 : 0}`);
      return self;
    },
    /** EC2 detaching whatever a terminated instance held, and the instance gone. */
    terminate(id: string) {
      const file = join(aws, 'instances', id);
      const [ip, , group] = readFileSync(file, 'utf8').trim().split(' ');
      line(file, `${ip} terminated ${group} Terminated`);
      for (const kind of ['volumes', 'enis']) {
        for (const f of readdirSync(join(aws, kind))) {
          const fields = readFileSync(join(aws, kind, f), 'utf8').trim().split(' ');
          if (fields[1] === id) line(join(aws, kind, f), ['available', '-', '-', ...fields.slice(3)].join(' '));
        }
      }
      return self;
    },
    etcdState: etcd,
    node(identity: Identity, extra: readonly Rule[] = []): { node: FakeNode; run: (args?: string[], more?: readonly Rule[], extraEnv?: Record<string, string>) => ReturnType<FakeNode['run']> } {
      const n = temporary.node(input);
      const sysNet = join(n.root, 'sys-class-net');
      mkdirSync(join(sysNet, 'ens5'), { recursive: true });
      writeFileSync(join(sysNet, 'ens5', 'address'), '0a:ff:ff:ff:ff:01\n');
      const model = (file: string, name: string) => `. '${file}' ${name} "$@"`;
      // download-certs writes the cluster's current CA and keys; kubeadm init's certs phase keeps
      // what pki already holds ("Using existing ... certificate authority") and makes only what is missing.
      const caFiles = 'ca.crt ca.key sa.key front-proxy-ca.crt front-proxy-ca.key etcd/ca.crt etcd/ca.key';
      const downloaded = `mkdir -p "$KUBE_DIR/pki/etcd" && for f in ${caFiles}; do echo cluster-ca >"$KUBE_DIR/pki/$f"; done; [[ -f $KUBE_DIR/pki/sa.pub ]] || cp "$FAKE_DIR/sa.pub" "$KUBE_DIR/pki/sa.pub"`;
      const pki = `mkdir -p "$KUBE_DIR/pki/etcd" && for f in ${caFiles}; do [[ -s $KUBE_DIR/pki/$f ]] || echo cluster-ca >"$KUBE_DIR/pki/$f"; done; [[ -f $KUBE_DIR/pki/sa.pub ]] || cp "$FAKE_DIR/sa.pub" "$KUBE_DIR/pki/sa.pub"`;
      // kubeadm's certs phases make the etcd client certificate from the etcd CA, and keep an existing one
      // only when that CA signed it ("Using the existing ..."); one another CA signed is an error.
      const clientCert = [
        'f=$KUBE_DIR/pki/etcd/healthcheck-client.crt; signed="signed-by $(<"$KUBE_DIR/pki/etcd/ca.key")"',
        'if [[ -f $f ]]; then [[ $(<"$f") == "$signed" ]] || { echo "error execution phase certs/etcd-healthcheck-client: certificate etcd/healthcheck-client is not signed by corresponding CA" >&2; exit 1; }; else echo "$signed" >"$f"; fi',
      ].join('; ');
      const healthcheck = `[[ -s $KUBE_DIR/pki/etcd/ca.key ]] || { echo 'failure loading etcd/ca certificate authority' >&2; exit 1; }; ${clientCert}`;
      // kubeadm's preflight refuses a data dir that is not empty unless told to ignore it (or skipped).
      const preflight = `[[ -z $(ls -A "$ETCD_DATA_DIR/") || " $* " == *DirAvailable--var-lib-etcd* || " $* " == *--skip-phases=preflight* ]] || { echo "[preflight] Some fatal errors occurred: [ERROR DirAvailable--var-lib-etcd]: $ETCD_DATA_DIR is not empty" >&2; exit 1; }`;
      const uploadConfig = `awk -v RS='---\\n' '/(^|\\n)kind: ClusterConfiguration\\n/ { printf "%s", $0 }' "$3" >"$ETCD_STATE/kubeadm-config"`;
      // The API server answers while etcd has a running member (the others'); the ConfigMap as uploaded, or edited since.
      const readKubeadmConfig = [
        '[[ -f $2 ]] || { echo "error: stat $2: no such file or directory" >&2; exit 1; }',
        'grep -qs " 1$" "$ETCD_STATE"/members/* || { echo "The connection to the server was refused" >&2; exit 1; }',
        '[[ -f $ETCD_STATE/kubeadm-config ]] || { echo \'Error from server (NotFound): configmaps "kubeadm-config" not found\' >&2; exit 1; }',
        'cat "$ETCD_STATE/kubeadm-config"',
      ].join('; ');
      const rules: Rule[] = [
        ...extra,
        { cmd: 'curl', args: '*meta-data/instance-id', stdout: identity.id },
        { cmd: 'curl', args: '*meta-data/local-ipv4', stdout: identity.ip },
        { cmd: 'curl', args: '*meta-data/local-hostname', stdout: hostname(identity.ip) },
        ...ssmStore(store),
        { cmd: 'aws', args: 'ec2 describe-volumes *', run: `. '${SLOTS_MODEL}' "$@"` },
        { cmd: 'aws', args: 'ec2 *-volume *', run: `. '${SLOTS_MODEL}' "$@"` },
        { cmd: 'aws', args: 'ec2 *-network-interface*', run: `. '${SLOTS_MODEL}' "$@"` },
        { cmd: 'aws', args: 'ec2 *', run: `. '${ASG_MODEL}' "$@"` },
        { cmd: 'aws', args: 'autoscaling describe-auto-scaling-instances *', run: `. '${ASG_MODEL}' "$@"` },
        { cmd: 'udevadm', args: 'settle *' },
        ...['blkid', 'wipefs', 'mkfs.ext4', 'mount', 'umount', 'mountpoint', 'ip'].map((cmd): Rule => ({ cmd, args: '*', run: model(SLOTS_MODEL, cmd) })),
        { cmd: 'etcdctl', args: '*', run: `. '${ETCD_MODEL}' etcdctl "$@"` },
        // Its upload-config phase (skipped by a rejoin) stores the ClusterConfiguration in kube-system/kubeadm-config (the etcd model exits).
        { cmd: 'kubeadm', args: 'init --config *', run: `${preflight}; ${pki}; ${clientCert}; : >"$KUBE_DIR/admin.conf"; [[ \${4-} == --skip-phases=* ]] || ${uploadConfig}; . '${ETCD_MODEL}' kubeadm-init "$3" "$4"` },
        // The admin kubeconfig is signed by the cluster CA: without ca.key kubeadm fails.
        { cmd: 'kubeadm', args: 'init phase kubeconfig admin --config * --kubeconfig-dir *', run: `[[ -s $KUBE_DIR/pki/ca.key ]] || { echo 'failure loading ca certificate authority' >&2; exit 1; }; mkdir -p "$8" && echo admin >"$8/admin.conf"` },
        { cmd: 'kubectl', args: '--kubeconfig * -n kube-system get configmap kubeadm-config *', run: readKubeadmConfig },
        { cmd: 'kubeadm', args: 'join phase control-plane-prepare download-certs *', run: downloaded },
        // kubeadm's certs phases sign the etcd client certificate with the etcd CA, which must be there.
        { cmd: 'kubeadm', args: 'init phase certs etcd-healthcheck-client *', run: healthcheck },
        { cmd: 'kubeadm', args: 'join phase control-plane-prepare certs *', run: healthcheck },
        { cmd: 'kubeadm', args: 'join --config *', run: `${preflight}; ${healthcheck}; . '${ETCD_MODEL}' kubeadm-join "$3"` },
        { cmd: 'kubeadm', args: 'reset *', run: `. '${ETCD_MODEL}' kubeadm-reset "$@"` },
        { cmd: 'kubeadm', args: 'certs certificate-key', stdout: `${KEY}\n` },
        { cmd: 'kubeadm', args: 'token create *', stdout: 'kubeadm join api:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:feed \n' },
      ];
      n.setRules(rules);
      writeFileSync(join(n.state, 'core-addons.done'), '');
      const env = {
        AWS_STATE: aws,
        ETCD_STATE: etcd,
        ETCD_LOCAL_IP: identity.ip,
        FAKE_INSTANCE: identity.id,
        DISK_BY_ID: disks,
        SYS_NET: sysNet,
        SYSTEMD_DIR: join(n.root, 'systemd'),
        NETWORKD_DIR: join(n.root, 'networkd'),
        SLOT_TAG: names.etcdSlot.slotTagKey,
        CLUSTER_SLOT_TAG: names.etcdSlot.clusterTagKey,
        SLOT_WAIT_ATTEMPTS: '5',
      };
      return {
        node: n,
        run: (args = [], more = [], extraEnv: Record<string, string> = {}) => {
          n.setRules([...more, ...rules]);
          return n.run('control-plane.sh', args, { ...env, ...extraEnv });
        },
      };
    },
    /** An SSM String as a writer left it. */
    parameter(name: string, value: string) {
      const d = join(store, name.replace(/\//g, '%2F'));
      mkdirSync(d, { recursive: true });
      for (const [f, v] of [['value', value], ['type', 'String'], ['key', ''], ['version', '1'], ['modified', '2025-06-30T12:00:00.000000+00:00']]) writeFileSync(join(d, f), v);
      return self;
    },
    value: (name: string) => readFileSync(join(store, name.replace(/\//g, '%2F'), 'value'), 'utf8'),
    /** A second volume carrying a slot's tag (a copy made by hand), listed after the slot's own. */
    strayVolume(slot: string) {
      line(join(aws, 'volumes', `vol-${slot}x`), `available - - ${asg(slot)} -1`);
      return self;
    },
    /** A parameter deleted (ParameterNotFound from then on). */
    drop(name: string) {
      rmSync(join(store, name.replace(/\//g, '%2F')), { recursive: true, force: true });
      return self;
    },
    /** etcd as a restore leaves it: none of the old members, only those the restore and later joins made. */
    forgetMembers() {
      for (const id of readdirSync(join(etcd, 'members'))) rmSync(join(etcd, 'members', id));
      return self;
    },
    /** Join material as the initialiser left it (the lock holder is gone). */
    published() {
      for (const [name, value] of [[names.ssm.initLock, 'i-first'], [names.ssm.joinToken, 'abcdef.0123456789abcdef'], [names.ssm.caCertHash, 'sha256:feed'], [names.ssm.certificateKey, KEY]]) {
        const d = join(store, name.replace(/\//g, '%2F'));
        mkdirSync(d, { recursive: true });
        for (const [f, v] of [['value', value], ['type', 'String'], ['key', ''], ['version', '1'], ['modified', '2025-06-30T12:00:00.000000+00:00']]) writeFileSync(join(d, f), v);
      }
      return self;
    },
    members(): string[] {
      const dir = join(etcd, 'members');
      return readdirSync(dir)
        .map((id) => readFileSync(join(dir, id), 'utf8').trim().split(' '))
        .map(([, ip, , running]) => `${ip}${running === '1' ? '' : ' (down)'}`)
        .sort();
    },
    removed: () => (existsSync(join(etcd, 'removed.log')) ? readFileSync(join(etcd, 'removed.log'), 'utf8').split('\n').filter(Boolean) : []),
    formatted: () => (existsSync(join(aws, 'formatted.log')) ? readFileSync(join(aws, 'formatted.log'), 'utf8').split('\n').filter(Boolean) : []),
    /** What the volume holds (its filesystem, whoever mounts it). */
    onVolume: (slot: string, path: string) => join(aws, 'disks', `vol-${slot}`, 'fs', path),
    holderOf: (kind: 'volumes' | 'enis', id: string) => readFileSync(join(aws, kind, id), 'utf8').split(' ')[1],
    attachmentOf: (kind: 'volumes' | 'enis', id: string) => readFileSync(join(aws, kind, id), 'utf8').split(' ')[2],
    corrupt(slot: string) {
      mkdirSync(join(aws, 'disks', `vol-${slot}`), { recursive: true });
      writeFileSync(join(aws, 'disks', `vol-${slot}`, 'fstype'), 'ext4\n');
      writeFileSync(join(aws, 'disks', `vol-${slot}`, 'corrupt'), '');
      return self;
    },
    /** A signature on a volume without a filesystem: a partition table (`pttype`) or a non-filesystem superblock (`fstype`, e.g. LVM2_member). */
    signature(slot: string, kind: 'pttype' | 'fstype', value: string) {
      mkdirSync(join(aws, 'disks', `vol-${slot}`), { recursive: true });
      writeFileSync(join(aws, 'disks', `vol-${slot}`, kind), `${value}\n`);
      return self;
    },
  };
  return self;
}

const B1: Identity = { id: 'i-b1', ip: '10.20.1.11' };
const B2: Identity = { id: 'i-b2', ip: '10.20.1.21' };
const etcdCalls = (calls: readonly string[]) => callsOf(calls, 'etcdctl', 'kubeadm').filter((c) => !c.startsWith('kubeadm join phase') && !c.startsWith('kubeadm certs') && !c.startsWith('kubeadm token') && !c.includes('upload-certs --upload-certs --certificate-key'));

/** A day-0 initialiser in slot b with a blank volume, then peers a and c as members beside it. */
function initialisedCluster() {
  const w = world()
    .instance('i-a', '10.20.0.10', 'a')
    .instance('i-c', '10.20.2.30', 'c')
    .instance(B1.id, B1.ip, 'b', 'running', 'Pending:Wait')
    .slot('a', { holder: 'i-a' })
    .slot('b')
    .slot('c', { holder: 'i-c' });
  const b1 = w.node(B1);
  const first = { ...b1.run(), node: b1.node };
  w.member('aa01', ADDRESS.a).member('cc01', ADDRESS.c);
  return { w, first, b1 };
}

describe('etcd-slot.sh: the first boot of a slot', () => {
  it('attaches the volume and address, formats the blank volume once, and initialises the cluster with the member at the slot address', () => {
    const { w, first } = initialisedCluster();
    expect(first.status, first.stderr).toBe(0);
    expect(w.formatted()).toEqual(['vol-b']);
    expect(first.calls).toContain('aws ec2 attach-volume --region ap-northeast-2 --volume-id vol-b --instance-id i-b1 --device /dev/sdf');
    expect(first.calls).toContain('aws ec2 attach-network-interface --region ap-northeast-2 --network-interface-id eni-b --instance-id i-b1 --device-index 1');
    expect(w.holderOf('volumes', 'vol-b')).toBe('i-b1');
    // etcd's peer and client URLs and the API server's advertise address: the slot's; the kubelet keeps the primary address.
    expect(w.members()).toEqual([ADDRESS.a, ADDRESS.b, ADDRESS.c]);
    const init = readFileSync(join(first.node.state, 'kubeadm-init.yaml'), 'utf8');
    expect(init).toContain(`advertiseAddress: '${ADDRESS.b}'`);
    expect(init).toMatch(new RegExp(`name: node-ip\\n\\s+value: '${B1.ip.replace(/\./g, '\\.')}'`));
    expect(first.calls).toContain(`kubeadm init --config ${join(first.node.state, 'kubeadm-init.yaml')} --upload-certs --skip-token-print --skip-certificate-key-print --ignore-preflight-errors=DirAvailable--var-lib-etcd`);
    // The data and the cluster CA live on the volume.
    expect(readFileSync(w.onVolume('b', 'member/wal/member-id'), 'utf8').trim()).toBe('ee10201100');
    expect(existsSync(w.onVolume('b', 'pki/etcd/ca.key'))).toBe(true);
  });

  it('names every volume carrying the slot tag when there is more than one, and takes the first', () => {
    const w = world().instance(B1.id, B1.ip, 'b', 'running', 'Pending:Wait').slot('b').strayVolume('b');
    const result = w.node(B1).run();
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain('WARNING: 2 etcd volumes tagged hakube/etcd-slot=production-control-plane-b (vol-b vol-bx): using vol-b; untag the others');
    expect(w.holderOf('volumes', 'vol-b')).toBe(B1.id);
  });

  it('mounts the volume at every later boot before the kubelet starts etcd (a mount unit the kubelet requires), by filesystem UUID', () => {
    const { first } = initialisedCluster();
    const dataDir = join(first.node.root, 'etcd');
    const unitName = spawnSync('systemd-escape', ['--path', '--suffix=mount', dataDir], { encoding: 'utf8' }).stdout.trim();
    const unit = readFileSync(join(first.node.root, 'systemd', unitName), 'utf8');
    expect(unit).toMatch(/^Before=kubelet\.service$/m);
    expect(unit).toContain(`[Mount]\nWhat=/dev/disk/by-uuid/uuid-vol-b\nWhere=${dataDir}\nType=ext4\n`);
    // No nofail and no WantedBy: a missing volume fails the kubelet (Requires=), never the boot.
    expect(unit).not.toMatch(/nofail|WantedBy/);
    expect(readFileSync(join(first.node.root, 'systemd', 'kubelet.service.d', '20-etcd-volume.conf'), 'utf8')).toBe(`[Unit]\nRequiresMountsFor=${dataDir}\n`);
    expect(first.calls).toContain('systemctl daemon-reload');
  });

  it('routes what leaves from the slot address through its own interface (found by MAC), replies to pods through the main table', () => {
    const { first } = initialisedCluster();
    const network = readFileSync(join(first.node.root, 'networkd', '10-etcd-slot.network'), 'utf8');
    const sections = networkSections(network);
    // The interface is the one with the ENI's MAC; the slot address alone, no DHCP of its own.
    expect(sections[0]).toEqual({ name: 'Match', keys: { MACAddress: '0a:00:00:00:00:62' } });
    expect(sections.find((x) => x.name === 'Network')?.keys).toMatchObject({ DHCP: 'no', Address: `${ADDRESS.b}/32` });
    expect(sections.find((x) => x.name === 'Route')?.keys).toEqual({ Gateway: '10.20.1.1', GatewayOnLink: 'yes', Table: '101' });
    // Connections to the other members start from the slot address, which the peer certificate names (M5: no DNS in peer auth).
    expect(sections.filter((x) => x.name === 'Route' && x.keys.Destination).map((x) => x.keys)).toEqual(
      [ADDRESS.a, ADDRESS.c].map((peer) => ({ Destination: `${peer}/32`, Gateway: '10.20.1.1', GatewayOnLink: 'yes', PreferredSource: ADDRESS.b })),
    );
    const rules = networkdRules(network);
    const local = [B1.ip, ADDRESS.b];
    const podCidr = production.cluster.clusterNetwork.podCidr;
    const pod = podCidr.replace(/\.0\.0\/16$/, '.3.7');
    // The API server answers a pod (kubernetes Service endpoint = the slot address): main table, Cilium's routes.
    expect(routingTable(rules, local, ADDRESS.b, pod)).toBe('main');
    // etcd peers and everything else from the slot address: its own table, out through its ENI.
    expect(routingTable(rules, local, ADDRESS.b, ADDRESS.a)).toBe('101');
    expect(routingTable(rules, local, ADDRESS.b, '10.20.5.9')).toBe('101');
    // The primary address keeps the main table; the node's own addresses stay local.
    expect(routingTable(rules, local, B1.ip, ADDRESS.a)).toBe('main');
    expect(routingTable(rules, local, ADDRESS.b, B1.ip)).toBe('local');
    // Without the pod rule the reply would leave by the ENI into the VPC: what the rule is for.
    expect(routingTable(rules.filter((r) => r.to !== podCidr), local, ADDRESS.b, pod)).toBe('101');
    // networkd applies the first file (by name) that matches a link: before netplan's for the same NIC.
    expect(['10-etcd-slot.network', '10-netplan-ens6.network', '50-cloud-init.network'].sort()[0]).toBe('10-etcd-slot.network');
    // networkd (not `ip rule` by hand, which it would drop as foreign) installs them.
    expect(callsOf(first.calls, 'ip')).toEqual(['ip -4 route show default']);
    expect(callsOf(first.calls, 'networkctl')).toEqual(['networkctl reload', 'networkctl reconfigure ens6']);
    expect(first.calls).toContain('sysctl -qw net.ipv4.conf.ens6.rp_filter=2');
  });

  it('configures the slot interface by the name udev gave it, when the NIC appears only after the first settle under its kernel name', () => {
    const w = world().instance('i-a', '10.20.0.10', 'a').instance(B1.id, B1.ip, 'b', 'running', 'Pending:Wait').slot('a', { holder: 'i-a' }).slot('b');
    // EC2 says attached before the guest sees the NIC: it appears as eth1 only while the script
    // sleeps after its first settle, and udev renames it to ens6 moments later (done by the next
    // settle, and before networkd acts on anything), like a real hot-plug.
    const hidden = '[[ ! -d $SYS_NET/ens6 || -e $FAKE_DIR/nic-seen ]] || { mv "$SYS_NET/ens6" "$FAKE_DIR/nic"; touch "$FAKE_DIR/nic-seen"; }';
    const rename = '[[ ! -d $SYS_NET/eth1 ]] || mv "$SYS_NET/eth1" "$SYS_NET/ens6"';
    const b1 = w.node(B1, [
      { cmd: 'aws', args: 'ec2 describe-network-interfaces *', run: `( . '${SLOTS_MODEL}' "$@" ); s=$?; ${hidden}; exit $s` },
      { cmd: 'sleep', args: '*', run: '[[ ! -e $FAKE_DIR/settled || ! -d $FAKE_DIR/nic ]] || mv "$FAKE_DIR/nic" "$SYS_NET/eth1"' },
      { cmd: 'udevadm', args: 'settle *', run: `${rename}; touch "$FAKE_DIR/settled"` },
      // networkd knows links by their current name.
      { cmd: 'networkctl', args: '*', run: `${rename}; [[ $1 != reconfigure || -d $SYS_NET/$2 ]] || { echo "Interface \\"$2\\" not found." >&2; exit 1; }` },
    ]);
    // udevadm is no command the harness fakes on every node: this one gets the rule-driven fake.
    copyFileSync(join(b1.node.fakeDir, 'bin', 'sleep'), join(b1.node.fakeDir, 'bin', 'udevadm'));
    const first = b1.run();
    expect(first.status, first.stderr).toBe(0);
    // Found after a sleep: settled again and looked up again before networkd is told its name.
    const waits = callsOf(first.calls, 'udevadm', 'sleep');
    const settle = waits.indexOf('udevadm settle --timeout=30');
    expect(waits.slice(settle, settle + 4)).toEqual(['udevadm settle --timeout=30', 'sleep 10', 'udevadm settle --timeout=30', 'udevadm settle --timeout=30']);
    expect(callsOf(first.calls, 'networkctl')).toEqual(['networkctl reload', 'networkctl reconfigure ens6']);
    expect(first.calls).toContain('sysctl -qw net.ipv4.conf.ens6.rp_filter=2');
    expect(first.stderr).toContain(`member address ${ADDRESS.b}`);
  });
});

describe('etcd-slot.sh: a replacement in the same AZ', () => {
  const replaced = (holder?: { freesAfter: number }) => {
    const { w } = initialisedCluster();
    if (holder) {
      // The ASG launched the replacement while the old instance runs its terminating hook: it holds both.
      w.instance(B1.id, B1.ip, 'b', 'running', 'Terminating:Wait').slot('b', { holder: B1.id, freesAfter: holder.freesAfter });
    } else {
      w.terminate(B1.id);
    }
    // The old node's etcd stopped with it.
    w.member('ee10201100', ADDRESS.b, false);
    w.instance(B2.id, B2.ip, 'b', 'running', 'Pending:Wait');
    const b2 = w.node(B2);
    return { w, second: { ...b2.run(), node: b2.node } };
  };

  it('reattaches the volume, never formats it, and rejoins as the same member with its data: no member remove, no member add', () => {
    const { w, second } = replaced();
    expect(second.status, second.stderr).toBe(0);
    expect(w.formatted()).toEqual(['vol-b']);
    expect(etcdCalls(second.calls)).toEqual([
      // etcdctl needs this node's client certificate (M1): made from the etcd CA on the volume first.
      `kubeadm init phase certs etcd-healthcheck-client --config ${join(second.node.state, 'kubeadm-rejoin.yaml')}`,
      `etcdctl --endpoints=https://${ADDRESS.a}:2379,https://${ADDRESS.c}:2379 member list -w simple`,
      // M3: an admin kubeconfig from the downloaded CA, to read kube-system/kubeadm-config.
      `kubeadm init phase kubeconfig admin --config ${join(second.node.state, 'kubeadm-rejoin.yaml')} --kubeconfig-dir ${join(second.node.state, 'rejoin-admin')}`,
      `kubeadm init --config ${join(second.node.state, 'kubeadm-rejoin.yaml')} --skip-phases=upload-config,upload-certs,bootstrap-token,addon,show-join-command --skip-token-print --ignore-preflight-errors=DirAvailable--var-lib-etcd`,
    ]);
    expect(w.removed()).toEqual([]);
    expect(w.members()).toEqual([ADDRESS.a, ADDRESS.b, ADDRESS.c]);
    expect(readFileSync(w.onVolume('b', 'member/wal/member-id'), 'utf8').trim()).toBe('ee10201100');
    expect(readFileSync(join(second.node.kube, 'pki', 'ca.key'), 'utf8').trim()).toBe('cluster-ca');
    expect(second.stderr).toContain(`etcd volume holds the member at ${ADDRESS.b}: rejoining with its data and membership`);
  });

  /** The documents of a kubeadm config file by kind. */
  const documents = (file: string) => Object.fromEntries(readFileSync(file, 'utf8').split(/^---$/m).map((d) => parse(d) as { kind: string }).map((d) => [d.kind, d]));

  it('renders its static pods from the cluster\'s kubeadm-config, not its user data\'s, when they differ (a kubeadm upgrade apply since), keeping its own advertise address and patches (M3)', () => {
    const { w } = initialisedCluster();
    // What `kubeadm upgrade apply` left in the ConfigMap while the slot was away: a newer version and a flag of its own.
    const uploaded = readFileSync(join(w.etcdState, 'kubeadm-config'), 'utf8');
    expect(uploaded).toContain('kind: ClusterConfiguration');
    const upgraded = uploaded.replace(/^kubernetesVersion: .*$/m, 'kubernetesVersion: v1.99.1\nimageRepository: registry.example.com/k8s');
    expect(upgraded).not.toBe(uploaded);
    writeFileSync(join(w.etcdState, 'kubeadm-config'), upgraded);
    w.terminate(B1.id).member('ee10201100', ADDRESS.b, false).instance(B2.id, B2.ip, 'b', 'running', 'Pending:Wait');
    const b2 = w.node(B2);
    const second = b2.run();
    expect(second.status, second.stderr).toBe(0);
    const rejoin = documents(join(b2.node.state, 'kubeadm-rejoin.yaml'));
    expect(rejoin.ClusterConfiguration).toEqual(parse(upgraded));
    expect(rejoin.ClusterConfiguration).toMatchObject({ kubernetesVersion: 'v1.99.1', imageRepository: 'registry.example.com/k8s' });
    // This node's own: the slot address, the patches directory, its kubelet configuration.
    expect(rejoin.InitConfiguration).toMatchObject({ localAPIEndpoint: { advertiseAddress: ADDRESS.b }, patches: { directory: expect.any(String) } });
    expect(rejoin.KubeletConfiguration).toBeDefined();
    expect(second.stderr).toContain('rejoining with the cluster\'s ClusterConfiguration (kube-system/kubeadm-config)');
    // The admin kubeconfig it read with is gone.
    expect(existsSync(join(b2.node.state, 'rejoin-admin'))).toBe(false);
    expect(w.members()).toEqual([ADDRESS.a, ADDRESS.b, ADDRESS.c]);
  });

  it('keeps its user data\'s ClusterConfiguration, and says so, when kubeadm-config cannot be read', () => {
    const { w } = initialisedCluster();
    rmSync(join(w.etcdState, 'kubeadm-config'));
    w.terminate(B1.id).member('ee10201100', ADDRESS.b, false).instance(B2.id, B2.ip, 'b', 'running', 'Pending:Wait');
    const b2 = w.node(B2);
    const second = b2.run();
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toContain('kube-system/kubeadm-config unreadable: rejoining with the ClusterConfiguration of this node\'s user data');
    const userData = documents(join(b2.node.etc, 'kubeadm-init.yaml.tmpl'));
    expect(documents(join(b2.node.state, 'kubeadm-rejoin.yaml')).ClusterConfiguration).toEqual(userData.ClusterConfiguration);
  });

  it('takes the CA and service-account key from the cluster, never the stale copy on the volume (rotated while the slot was away)', () => {
    const { w } = initialisedCluster();
    for (const f of ['ca.key', 'sa.key']) writeFileSync(w.onVolume('b', `pki/${f}`), 'before-rotation\n');
    w.terminate(B1.id).member('ee10201100', ADDRESS.b, false).instance(B2.id, B2.ip, 'b', 'running', 'Pending:Wait');
    const b2 = w.node(B2);
    const second = { ...b2.run(), node: b2.node };
    expect(second.status, second.stderr).toBe(0);
    expect(callsOf(second.calls, 'kubeadm').filter((c) => c.startsWith('kubeadm join phase control-plane-prepare download-certs'))).toHaveLength(1);
    for (const f of ['ca.key', 'sa.key']) {
      expect(readFileSync(join(second.node.kube, 'pki', f), 'utf8').trim(), f).toBe('cluster-ca');
      // The volume's copy now follows what the node runs.
      expect(readFileSync(w.onVolume('b', `pki/${f}`), 'utf8').trim(), f).toBe('cluster-ca');
    }
  });

  it('waits while the old instance still holds the volume and address, then proceeds once EC2 frees them', () => {
    const { w, second } = replaced({ freesAfter: 2 });
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toContain('etcd address eni-b is in-use, held by i-b1 (1/5)');
    expect(second.stderr).toContain('etcd volume vol-b is in-use, held by i-b1 (1/5)');
    // EC2 refuses a second attachment: the node never tries while another holds it.
    expect(second.stderr).not.toContain('VolumeInUse');
    expect(w.holderOf('volumes', 'vol-b')).toBe(B2.id);
    expect(w.members()).toEqual([ADDRESS.a, ADDRESS.b, ADDRESS.c]);
    expect(w.formatted()).toEqual(['vol-b']);
  });

  it('after the bound, falls back to a fresh member at its primary address and removes the slot member it could not take over', () => {
    const { w, second } = replaced({ freesAfter: -1 });
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toContain('FALLBACK: no usable etcd slot for production-control-plane-b');
    expect(w.removed()).toEqual(['ee10201100']);
    expect(w.members()).toEqual([ADDRESS.a, B2.ip, ADDRESS.c].sort());
    expect(readFileSync(join(second.node.state, 'etcd-slot'), 'utf8')).toBe(`none ${ADDRESS.b}\n`);
    // The held volume was never touched: its data stays for a deliberate recovery.
    expect(w.holderOf('volumes', 'vol-b')).toBe(B1.id);
  });
});

describe('etcd-slot.sh: a fallback beside a holder that stays', () => {
  it('keeps the slot member while the instance holding the slot is neither gone nor terminating (it may run that member)', () => {
    const { w } = initialisedCluster();
    // The old node's hook was abandoned and it went back InService (or an operator's rescue instance): it keeps volume and address.
    w.instance(B1.id, B1.ip, 'b', 'running', 'InService').slot('b', { holder: B1.id, freesAfter: -1 });
    w.instance(B2.id, B2.ip, 'b', 'running', 'Pending:Wait');
    const second = w.node(B2).run();
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toContain('FALLBACK: no usable etcd slot for production-control-plane-b');
    expect(second.stderr).toContain(`the slot is held by ${B1.id}, which stays: its member at ${ADDRESS.b} is kept`);
    expect(w.removed()).toEqual([]);
    expect(w.members()).toEqual([ADDRESS.a, ADDRESS.b, ADDRESS.c, B2.ip].sort());
  });
});

describe('etcd-slot.sh: a volume of another cluster generation (a restore since)', () => {
  const GENERATION = '/hakube/production/etcd/generation';

  it('the initialiser stamps a new generation in SSM and on its volume', () => {
    const { w, first } = initialisedCluster();
    expect(first.status, first.stderr).toBe(0);
    expect(w.value(GENERATION)).toMatch(/^\d+-i-b1$/);
    expect(readFileSync(w.onVolume('b', 'generation'), 'utf8').trim()).toBe(w.value(GENERATION));
  });

  it('is wiped (its contents named in the log) and joins as a fresh member of the restored cluster: the old member never comes back', () => {
    const { w } = initialisedCluster();
    const old = readFileSync(w.onVolume('b', 'generation'), 'utf8').trim();
    // The restore: a new etcd cluster from a snapshot at slot a, slot c joined it fresh; slot b's node was gone meanwhile.
    w.terminate(B1.id).forgetMembers().member('ra01', ADDRESS.a).member('rc01', ADDRESS.c).parameter(GENERATION, '1751300000-i-a');
    w.instance(B2.id, B2.ip, 'b', 'running', 'Pending:Wait');
    writeFileSync(w.onVolume('b', 'member/old-cluster.snap'), 'old\n');
    const b2 = w.node(B2);
    const second = { ...b2.run(), node: b2.node };
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toContain(`etcd volume holds generation '${old}', the cluster is at '1751300000-i-a' (restored since): wiping ${join(b2.node.root, 'etcd')} (`);
    const named = /wiping \S+ \(([^)]*)\)/.exec(second.stderr)?.[1].trim().split(' ').sort();
    expect(named).toEqual(['generation', 'lost+found', 'member', 'pki']);
    expect(etcdCalls(second.calls).some((c) => c.includes('kubeadm-rejoin.yaml'))).toBe(false);
    expect(etcdCalls(second.calls)).toContainEqual(expect.stringMatching(/^kubeadm join --config /));
    // A fresh member at the slot address with fresh data (nothing of the old cluster's), the volume not formatted again.
    expect(w.members()).toEqual([ADDRESS.a, ADDRESS.b, ADDRESS.c]);
    expect(existsSync(w.onVolume('b', 'member/old-cluster.snap'))).toBe(false);
    expect(existsSync(w.onVolume('b', 'member/wal/member-id'))).toBe(true);
    expect(w.formatted()).toEqual(['vol-b']);
    expect(readFileSync(w.onVolume('b', 'generation'), 'utf8').trim()).toBe('1751300000-i-a');
  });

  it('B1: while a restore is pending, a joiner never rejoins the old cluster with a volume that still shows the old generation, even with join material the old nodes republished', () => {
    const RESTORE_FROM = '/hakube/production/kubeadm/restore-from';
    const { w } = initialisedCluster();
    const old = readFileSync(w.onVolume('b', 'generation'), 'utf8').trim();
    // etcd-restore.sh request: the request stands, the restored cluster's initialiser (a new node in
    // slot a) took the lock but has not yet written the new generation (only after downloading the
    // snapshot). The old nodes a and c still run, and one's join-material timer republished the
    // old cluster's material (what join-material.sh refresh did before B1's fix).
    w.parameter(RESTORE_FROM, 'etcd-snapshots/production/etcd-production-20250630T114500Z.tar.gz').instance('i-a2', '10.20.0.12', 'a').published();
    w.parameter(names.ssm.initLock, 'i-a2');
    w.terminate(B1.id).member('ee10201100', ADDRESS.b, false).instance(B2.id, B2.ip, 'b', 'running', 'Pending:Wait');
    const b2 = w.node(B2);
    // The republished token does not count while the request stands: it waits for the live initialiser.
    const early = b2.run([], [], { LOCK_WAIT_ATTEMPTS: '2' });
    expect(early.status).toBe(1);
    expect(early.stderr).toContain("restore of etcd-snapshots/production/etcd-production-20250630T114500Z.tar.gz pending: the published token is the lost cluster's");
    expect(early.stderr).toContain('[decide-role] FAILED: no join material after 2 attempts (init lock held by i-a2)');
    // Neither a rejoin as the old member b nor a fresh join through the old cluster's token.
    expect(etcdCalls(early.calls).filter((c) => c.startsWith('kubeadm') || c.includes('member'))).toEqual([]);
    expect(existsSync(join(b2.node.state, 'control-plane.done'))).toBe(false);
    // The volume is untouched, still of the old generation (its save_pki never ran).
    expect(readFileSync(w.onVolume('b', 'generation'), 'utf8').trim()).toBe(old);
    expect(readFileSync(w.onVolume('b', 'member/wal/member-id'), 'utf8').trim()).toBe('ee10201100');

    // The initialiser wrote the new generation, restored, ran kubeadm init and then cleared the request
    // (control-plane.sh init_cluster): the unit's retry wipes the old member and joins the restored cluster.
    w.forgetMembers().member('ra01', ADDRESS.a).member('rc01', ADDRESS.c).parameter(GENERATION, '1751300000-i-a2').drop(RESTORE_FROM);
    const retry = b2.run();
    expect(retry.status, retry.stderr).toBe(0);
    expect(retry.stderr).toContain(`etcd volume holds generation '${old}', the cluster is at '1751300000-i-a2' (restored since)`);
    expect(etcdCalls(retry.calls).some((c) => c.includes('kubeadm-rejoin.yaml'))).toBe(false);
    expect(w.members()).toEqual([ADDRESS.a, ADDRESS.b, ADDRESS.c]);
    expect(readFileSync(w.onVolume('b', 'generation'), 'utf8').trim()).toBe('1751300000-i-a2');
  });

  it('a volume of the current generation rejoins as before (no wipe)', () => {
    const { w } = initialisedCluster();
    w.terminate(B1.id).member('ee10201100', ADDRESS.b, false).instance(B2.id, B2.ip, 'b', 'running', 'Pending:Wait');
    const second = w.node(B2).run();
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).not.toContain('wiping');
    expect(readFileSync(w.onVolume('b', 'member/wal/member-id'), 'utf8').trim()).toBe('ee10201100');
  });
});

describe('etcd-slot.sh: when the volume itself is lost or damaged', () => {
  const lost = (volume: 'none' | 'blank' | 'corrupt' | 'signature', signature?: readonly ['pttype' | 'fstype', string]) => {
    const w = world()
      .instance('i-a', '10.20.0.10', 'a')
      .instance('i-c', '10.20.2.30', 'c')
      .instance(B1.id, B1.ip, 'b', 'terminated', 'Terminated')
      .instance(B2.id, B2.ip, 'b', 'running', 'Pending:Wait')
      .slot('a', { holder: 'i-a' })
      .slot('b', { volume: volume === 'none' ? 'none' : undefined })
      .slot('c', { holder: 'i-c' })
      .member('aa01', ADDRESS.a)
      .member('bb01', ADDRESS.b, false)
      .member('cc01', ADDRESS.c)
      .published();
    if (volume === 'corrupt') w.corrupt('b');
    if (signature) w.signature('b', ...signature);
    const b2 = w.node(B2);
    return { w, result: b2.run(), node: b2.node };
  };

  it('volume deleted: says so, joins as a fresh member at the primary address after removing the slot member (today\'s path)', () => {
    const { w, result } = lost('none');
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain('no etcd volume tagged hakube/etcd-slot=production-control-plane-b');
    expect(result.stderr).toContain('FALLBACK');
    expect(w.removed()).toEqual(['bb01']);
    // The members accept its peer connections (fakes/etcd.sh checks their source against its certificate).
    expect(w.members()).toEqual([ADDRESS.a, B2.ip, ADDRESS.c].sort());
  });

  it('B2: a blank volume in the slot (deleted and recreated by terraform apply, or replaced deliberately) while its old member is still listed: formatted, the stale member removed, a fresh member at the slot address', () => {
    const { w, result } = lost('blank');
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('FALLBACK');
    expect(w.formatted()).toEqual(['vol-b']);
    expect(result.stderr).toContain('volume vol-b is blank (no signature at all): formatting it');
    // Nothing to rejoin with: kubeadm join, after the old member at the slot address went.
    expect(etcdCalls(result.calls).some((c) => c.includes('kubeadm-rejoin.yaml'))).toBe(false);
    expect(etcdCalls(result.calls)).toContainEqual(expect.stringMatching(/^kubeadm join --config /));
    expect(w.removed()).toEqual(['bb01']);
    expect(w.members()).toEqual([ADDRESS.a, ADDRESS.b, ADDRESS.c]);
    const fresh = readFileSync(w.onVolume('b', 'member/wal/member-id'), 'utf8').trim();
    expect(fresh).not.toBe('bb01');
    expect(readFileSync(join(w.etcdState, 'members', fresh), 'utf8')).toContain(` ${ADDRESS.b} 1 1`);
    expect(w.holderOf('volumes', 'vol-b')).toBe(B2.id);
  });

  it('a fallback after the address was configured undoes it (networkd file, address, ENI): peer connections leave from the primary address its certificate names', () => {
    const { w, result, node } = lost('corrupt');
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain(`undoing the slot address ${ADDRESS.b}: the fallback member speaks from ${B2.ip}`);
    expect(existsSync(join(node.root, 'networkd', '10-etcd-slot.network'))).toBe(false);
    expect(callsOf(result.calls, 'networkctl')).toContain('networkctl reload');
    expect(callsOf(result.calls, 'ip')).toContain('ip -4 address flush dev ens6');
    // EC2 detaches asynchronously: the slot's next node finds it available.
    expect(w.attachmentOf('enis', 'eni-b')).toBe('detaching');
    expect(w.members()).toEqual([ADDRESS.a, B2.ip, ADDRESS.c].sort());
  });

  it('a filesystem that does not mount is never formatted: fallback, the volume left for inspection', () => {
    const { w, result } = lost('corrupt');
    expect(result.status, result.stderr).toBe(0);
    expect(w.formatted()).toEqual([]);
    expect(callsOf(result.calls, 'mkfs.ext4')).toEqual([]);
    expect(result.stderr).toContain('volume vol-b does not mount: left as it is');
    expect(w.members()).toEqual([ADDRESS.a, B2.ip, ADDRESS.c].sort());
  });

  it.each([
    ['a partition table (blkid without -p does not report one)', 'pttype', 'gpt'],
    ['an LVM physical volume', 'fstype', 'LVM2_member'],
  ] as const)('a reused volume holding %s is never formatted: fallback, the volume left as it is', (_, kind, value) => {
    const { w, result } = lost('signature', [kind, value]);
    expect(result.status, result.stderr).toBe(0);
    expect(w.formatted()).toEqual([]);
    expect(callsOf(result.calls, 'mkfs.ext4')).toEqual([]);
    expect(callsOf(result.calls, 'blkid')[0]).toMatch(/^blkid -p /);
    expect(result.stderr).toContain('volume vol-b does not mount: left as it is');
    expect(result.stderr).toContain('FALLBACK');
    expect(w.members()).toEqual([ADDRESS.a, B2.ip, ADDRESS.c].sort());
  });

  it('a blank volume is formatted only after blkid -p and wipefs -n both find nothing', () => {
    const { w, first } = initialisedCluster();
    expect(first.status, first.stderr).toBe(0);
    const probes = callsOf(first.calls, 'blkid', 'wipefs', 'mkfs.ext4');
    const device = probes[0].split(' ').pop();
    expect(probes.slice(0, 3)).toEqual([`blkid -p -o export ${device}`, `wipefs -n ${device}`, `mkfs.ext4 -q -L etcd ${device}`]);
    expect(w.formatted()).toEqual(['vol-b']);
  });

  it('data of a member the others removed meanwhile is set aside, not replayed: a fresh member at the slot address', () => {
    const { w } = initialisedCluster();
    w.terminate(B1.id).instance(B2.id, B2.ip, 'b', 'running', 'Pending:Wait');
    // Removed while away (an operator, or a fallback node that has since gone).
    rmMember(w, 'ee10201100');
    const second = w.node(B2).run();
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toContain(`the member at ${ADDRESS.b} was removed from etcd: setting its data aside`);
    expect(readdirSync(w.onVolume('b', '.')).some((f) => f.startsWith('member.removed-'))).toBe(true);
    expect(w.members()).toEqual([ADDRESS.a, ADDRESS.b, ADDRESS.c]);
    expect(w.formatted()).toEqual(['vol-b']);
  });
});

describe('etcd-slot.sh: a fresh join onto a volume holding member data', () => {
  it('sets the member data aside before kubeadm join when the volume has no etcd CA to rejoin with', () => {
    const { w } = initialisedCluster();
    w.terminate(B1.id).instance(B2.id, B2.ip, 'b', 'running', 'Pending:Wait');
    rmMember(w, 'ee10201100');
    rmSync(w.onVolume('b', 'pki/etcd/ca.key'));
    const second = w.node(B2).run();
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toContain('the etcd data dir holds member data this join cannot use: setting it aside');
    expect(readdirSync(w.onVolume('b', '.')).some((f) => f.startsWith('member.stale-'))).toBe(true);
    expect(w.members()).toEqual([ADDRESS.a, ADDRESS.b, ADDRESS.c]);
  });
});

describe('etcd-slot.sh: kubeadm reset of an earlier attempt keeps the members set aside', () => {
  // The first join: kubeadm wrote kubelet.conf and etcd's manifest, then gave up (its API server wait timed out).
  const failedJoin: Rule = { cmd: 'kubeadm', args: 'join --config *', times: 1, run: 'mkdir -p "$KUBE_DIR/manifests" && : >"$KUBE_DIR/kubelet.conf" && : >"$KUBE_DIR/manifests/etcd.yaml"; echo "error execution phase control-plane-join/etcd: timed out waiting for the condition" >&2; exit 1' };

  it('a fresh join retried on a slot whose removed member was set aside (member.removed-*): the reset skips remove-etcd-member, which would empty the data dir', () => {
    const { w } = initialisedCluster();
    w.terminate(B1.id).instance(B2.id, B2.ip, 'b', 'running', 'Pending:Wait');
    rmMember(w, 'ee10201100');
    const b2 = w.node(B2);
    const first = b2.run([], [failedJoin]);
    expect(first.status).toBe(1);
    const setAside = () => readdirSync(w.onVolume('b', '.')).filter((f) => f.startsWith('member.removed-'));
    expect(setAside()).toHaveLength(1);
    const retry = b2.run();
    expect(setAside()).toHaveLength(1);
    expect(retry.status, retry.stderr).toBe(0);
    expect(callsOf(retry.calls, 'kubeadm')).toContain('kubeadm reset --force --skip-phases=remove-etcd-member');
    expect(readFileSync(join(w.onVolume('b', setAside()[0]), 'wal', 'member-id'), 'utf8').trim()).toBe('ee10201100');
    expect(w.members()).toEqual([ADDRESS.a, ADDRESS.b, ADDRESS.c]);
  });

  it('a fallback node\'s join retried after its first attempt wrote member data: set aside on the root disk, preflight told the dir is not empty', () => {
    const w = world()
      .instance('i-a', '10.20.0.10', 'a')
      .instance('i-c', '10.20.2.30', 'c')
      .instance(B2.id, B2.ip, 'b', 'running', 'Pending:Wait')
      .slot('a', { holder: 'i-a' })
      .slot('b', { volume: 'none' })
      .slot('c', { holder: 'i-c' })
      .member('aa01', ADDRESS.a)
      .member('cc01', ADDRESS.c)
      .published();
    writeFileSync(join(w.etcdState, 'kubeadm-config'), 'kind: ClusterConfiguration\n');
    const b2 = w.node(B2);
    const dataDir = join(b2.node.root, 'etcd');
    const first = b2.run([], [{ ...failedJoin, run: `mkdir -p "$ETCD_DATA_DIR/member/wal" && ${failedJoin.run}` }]);
    expect(first.status).toBe(1);
    const retry = b2.run();
    expect(retry.status, retry.stderr).toBe(0);
    expect(readdirSync(dataDir).filter((f) => f.startsWith('member.stale-'))).toHaveLength(1);
    expect(callsOf(retry.calls, 'kubeadm')).toContainEqual(expect.stringMatching(/^kubeadm join --config .* --ignore-preflight-errors=DirAvailable--var-lib-etcd$/));
    expect(w.members()).toEqual([ADDRESS.a, B2.ip, ADDRESS.c].sort());
  });
});

describe('etcd-slot.sh: the etcd client certificate made from the volume\'s CA', () => {
  it.each([
    ['a rejoin', false],
    ['a fresh join (member removed meanwhile)', true],
  ])('goes once the cluster\'s CA is downloaded (%s): kubeadm makes its own from the etcd CA rotated while the slot was away', (_, removed) => {
    const { w } = initialisedCluster();
    // The others trust the old and the new etcd CA during the rotation: they answer the old CA's client.
    writeFileSync(w.onVolume('b', 'pki/etcd/ca.key'), 'before-rotation\n');
    w.terminate(B1.id).member('ee10201100', ADDRESS.b, false).instance(B2.id, B2.ip, 'b', 'running', 'Pending:Wait');
    if (removed) rmMember(w, 'ee10201100');
    const b2 = w.node(B2);
    const second = b2.run();
    expect(second.status, second.stderr).toBe(0);
    expect(readFileSync(join(b2.node.kube, 'pki', 'etcd', 'healthcheck-client.crt'), 'utf8').trim()).toBe('signed-by cluster-ca');
    expect(w.members()).toEqual([ADDRESS.a, ADDRESS.b, ADDRESS.c]);
  });
});

describe('etcd-slot.sh: a reboot while the EC2 API does not answer', () => {
  const down = (service: string): Rule => ({ cmd: 'aws', args: `${service} *`, exit: 254, run: `echo 'Could not connect to the endpoint URL: "https://${service}.ap-northeast-2.amazonaws.com/"' >&2` });

  it.each([
    ['EC2', [down('ec2')]],
    ['EC2 and Auto Scaling', [down('ec2'), down('autoscaling')]],
  ])('%s down: the slot claimed at the first boot is reused from the devices still attached, never turned into a fallback', (_, outage) => {
    const { first, b1 } = initialisedCluster();
    expect(first.status, first.stderr).toBe(0);
    const slotFile = join(first.node.state, 'etcd-slot');
    const claimed = readFileSync(slotFile, 'utf8');
    const network = readFileSync(join(first.node.root, 'networkd', '10-etcd-slot.network'), 'utf8');
    const reboot = b1.run([], outage);
    expect(reboot.stderr).not.toContain('FALLBACK');
    expect(readFileSync(slotFile, 'utf8')).toBe(claimed);
    expect(reboot.status, reboot.stderr).toBe(0);
    // The claim names the ENI's MAC, so a later boot finds the interface without asking EC2.
    expect(claimed.trim().split(' ')).toEqual(['vol-b', ADDRESS.b, 'eni-b', '0a:00:00:00:00:62']);
    expect(reboot.stderr).toContain(`etcd slot claimed at an earlier boot, its devices still attached: volume vol-b at ${join(first.node.root, 'etcd')}, member address ${ADDRESS.b}`);
    expect(readFileSync(slotFile, 'utf8')).toBe(claimed);
    // networkd keeps the configuration it applied at boot; the volume stays mounted (its mount unit).
    expect(readFileSync(join(first.node.root, 'networkd', '10-etcd-slot.network'), 'utf8')).toBe(network);
    expect(callsOf(reboot.calls, 'aws').filter((c) => /attach|detach|describe-volumes/.test(c))).toEqual([]);
    expect(callsOf(reboot.calls, 'mkfs.ext4')).toEqual([]);
  });
});

describe('etcd-slot.sh: a claimed slot that cannot be reclaimed (M2)', () => {
  it('dies (the unit retries) instead of writing `none` and falling back: the kubelet requires the volume\'s mount, so a fallback would never start', () => {
    const { first, b1 } = initialisedCluster();
    expect(first.status, first.stderr).toBe(0);
    const slotFile = join(first.node.state, 'etcd-slot');
    const claimed = readFileSync(slotFile, 'utf8');
    // The slot's interface is not there at this boot (the ENI detached meanwhile) and EC2 does not answer.
    rmSync(join(first.node.root, 'sys-class-net', 'ens6'), { recursive: true });
    const down: Rule = { cmd: 'aws', args: 'ec2 *', exit: 254, run: `echo 'Could not connect to the endpoint URL: "https://ec2.ap-northeast-2.amazonaws.com/"' >&2` };
    const reboot = b1.run([], [down]);
    expect(reboot.status).toBe(1);
    expect(reboot.stderr).not.toContain('FALLBACK');
    expect(reboot.stderr).toContain(`the etcd slot claimed at an earlier boot (volume vol-b, address ${ADDRESS.b}) cannot be taken back: not falling back`);
    // The claim stays for the retry; the kubelet drop-in still requires the volume's mount.
    expect(readFileSync(slotFile, 'utf8')).toBe(claimed);
    expect(existsSync(join(first.node.root, 'systemd', 'kubelet.service.d', '20-etcd-volume.conf'))).toBe(true);
  });
});

describe('etcd-slot.sh: peer authentication where no slot route applies (M1, etcd\'s checkCertSAN with its DNS fallback)', () => {
  /** A cluster from before slots: members at the nodes' primary addresses; terraform has just added the slots. Node b is replaced. */
  const firstRoll = (dns: boolean) => {
    const w = world(production, dns)
      .instance('i-a', '10.20.0.10', 'a')
      .instance('i-c', '10.20.2.30', 'c')
      .instance(B1.id, B1.ip, 'b', 'terminated', 'Terminated')
      .instance(B2.id, B2.ip, 'b', 'running', 'Pending:Wait')
      .slot('a')
      .slot('b')
      .slot('c')
      .member('aa01', '10.20.0.10')
      .member('bb01', B1.ip, false)
      .member('cc01', '10.20.2.30')
      .published();
    const b2 = w.node(B2);
    return { w, result: b2.run() };
  };

  it('the first roll of a pre-slot cluster onto slots: the new member speaks to the old ones from its primary address (no /32 route to them), which etcd accepts through the VPC DNS name its certificate carries', () => {
    const { w, result } = firstRoll(true);
    expect(result.status, result.stderr).toBe(0);
    expect(w.removed()).toEqual(['bb01']);
    expect(w.members()).toEqual(['10.20.0.10', ADDRESS.b, '10.20.2.30']);
  });

  /** Slot b claimed while slot a had no address yet (an AZ added to the control plane, or slot a's ENI recreated): member b's node has no /32 route to it until it reboots. Node a then joins onto its slot. */
  const newSlotAddress = (dns: boolean) => {
    const w = world(production, dns)
      .instance('i-c', '10.20.2.30', 'c')
      .instance(B1.id, B1.ip, 'b', 'terminated', 'Terminated')
      .instance(B2.id, B2.ip, 'b', 'running', 'Pending:Wait')
      .slot('b')
      .slot('c', { holder: 'i-c' })
      .member('cc01', ADDRESS.c)
      .published();
    const b2 = w.node(B2);
    const first = b2.run();
    expect(first.status, first.stderr).toBe(0);
    expect(readFileSync(join(b2.node.root, 'networkd', '10-etcd-slot.network'), 'utf8')).not.toContain(`Destination=${ADDRESS.a}/32`);
    const A2: Identity = { id: 'i-a2', ip: '10.20.0.12' };
    w.slot('a').instance(A2.id, A2.ip, 'a', 'running', 'Pending:Wait');
    return { w, result: w.node(A2).run() };
  };

  it('an existing member speaks to a new slot address from its primary address until its routes are refreshed: accepted through the VPC DNS name of its certificate', () => {
    const { w, result } = newSlotAddress(true);
    expect(result.status, result.stderr).toBe(0);
    expect(w.members()).toEqual([ADDRESS.a, ADDRESS.b, ADDRESS.c]);
  });

  it('without VPC DNS the new member refuses that existing member\'s connections (the check runs on both sides)', () => {
    const { result } = newSlotAddress(false);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`etcd: rejected connection from ${B2.ip.replace(/\./g, '\\.')} \\(member \\w+\\) to ${ADDRESS.a.replace(/\./g, '\\.')} \\(tls: `));
  });

  it('the same roll without VPC DNS for the EC2 hostnames is refused: that case relies on it (docs/decisions/etcd-volumes.md)', () => {
    const { w, result } = firstRoll(false);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`rejected connection from ${B2.ip} to 10.20.0.10 (tls: ${B2.ip} does not match any of the peer certificate's IP addresses [${ADDRESS.b} 127.0.0.1], and its DNS names [${hostname(B2.ip)} localhost] do not resolve to it)`);
    expect(w.members()).toEqual(['10.20.0.10', '10.20.2.30']);
  });
});

/** `etcdctl member remove` through member a, as an operator would (etcd's own checks apply). */
function rmMember(w: ReturnType<typeof world>, id: string) {
  const r = spawnSync('bash', ['-c', `. '${ETCD_MODEL}' etcdctl "$@"`, 'etcdctl', `--endpoints=https://${ADDRESS.a}:2379`, 'member', 'remove', id], { encoding: 'utf8', env: { ...process.env, ETCD_STATE: w.etcdState, ETCD_LOCAL_IP: ADDRESS.a } });
  if (r.status !== 0) throw new Error(r.stderr);
}

describe('etcd-slot.sh: all members lost at once', () => {
  it('a rejoin that timed out waiting for quorum is retried past preflight (its own kubelet and static pods still run), with the same data', () => {
    const { w } = initialisedCluster();
    w.terminate(B1.id).member('ee10201100', ADDRESS.b, false).instance(B2.id, B2.ip, 'b', 'running', 'Pending:Wait');
    const b2 = w.node(B2);
    // The first attempt: kubeadm wrote kubelet.conf and started the kubelet, then gave up waiting.
    const first = b2.run([], [{ cmd: 'kubeadm', args: 'init --config *', run: ': >"$KUBE_DIR/kubelet.conf"; echo "[wait-control-plane] context deadline exceeded" >&2; exit 1' }]);
    expect(first.status).toBe(1);
    expect(first.stderr).toContain('kubeadm init phases of the rejoin failed');
    const retry = b2.run();
    expect(retry.status, retry.stderr).toBe(0);
    expect(retry.stderr).toContain('retrying an earlier rejoin attempt');
    expect(callsOf(retry.calls, 'kubeadm')).toContain(`kubeadm init --config ${join(b2.node.state, 'kubeadm-rejoin.yaml')} --skip-phases=preflight,upload-config,upload-certs,bootstrap-token,addon,show-join-command --skip-token-print --ignore-preflight-errors=DirAvailable--var-lib-etcd`);
    expect(w.removed()).toEqual([]);
    expect(w.members()).toEqual([ADDRESS.a, ADDRESS.b, ADDRESS.c]);
    expect(w.formatted()).toEqual(['vol-b']);
  });

  it('a replacement rejoins from its volume while no other member answers, and the members come back without any membership change', () => {
    const { w } = initialisedCluster();
    // The others' etcd is down too (their instances are being replaced as well).
    w.terminate(B1.id).member('aa01', ADDRESS.a, false).member('cc01', ADDRESS.c, false).member('ee10201100', ADDRESS.b, false);
    w.instance(B2.id, B2.ip, 'b', 'running', 'Pending:Wait');
    // kubeadm-config differs from the user data (an upgrade since), but no API server can serve it.
    writeFileSync(join(w.etcdState, 'kubeadm-config'), readFileSync(join(w.etcdState, 'kubeadm-config'), 'utf8').replace(/^kubernetesVersion: .*$/m, 'kubernetesVersion: v1.99.1'));
    const b2 = w.node(B2);
    const second = b2.run();
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toContain("no other member answers: the cluster CA and service-account key kept on the etcd volume, the ClusterConfiguration of this node's user data");
    const config = readFileSync(join(b2.node.state, 'kubeadm-rejoin.yaml'), 'utf8');
    expect(config).not.toContain('v1.99.1');
    expect(config).toContain(`kubernetesVersion: v${production.cluster.kubernetesVersion}`);
    expect(w.removed()).toEqual([]);
    expect(w.members()).toEqual([`${ADDRESS.a} (down)`, ADDRESS.b, `${ADDRESS.c} (down)`]);
    expect(callsOf(second.calls, 'kubeadm').some((c) => c.startsWith('kubeadm join --config'))).toBe(false);
  });
});

describe('etcd-slot.sh: an AZ lost for good (five members, AZ a without instances)', () => {
  const five: UserDataInput = { ...production, cluster: { ...production.cluster, controlPlane: { ...production.cluster.controlPlane, count: 5 } } };
  const scenario = (aComesBack: boolean) => {
    // Two of five down already: quorum needs every other member, so the old node of slot b still
    // runs its etcd (Terminating:Wait) while its replacement, whose volume is gone, joins fresh.
    const w = world(five)
      .instance('i-b2x', '10.20.1.40', 'b2')
      .instance('i-c', '10.20.2.30', 'c')
      .instance(B1.id, B1.ip, 'b', 'running', 'Terminating:Wait')
      .instance(B2.id, B2.ip, 'b', 'running', 'Pending:Wait')
      .slot('a')
      .slot('a2')
      .slot('b', { volume: 'none', holder: B1.id })
      .slot('b2', { holder: 'i-b2x' })
      .slot('c', { holder: 'i-c' })
      .member('aa01', ADDRESS.a, false)
      .member('aa02', ADDRESS.a2, false)
      .member('bb01', ADDRESS.b)
      .member('bb02', ADDRESS.b2)
      .member('cc01', ADDRESS.c)
      .published();
    if (aComesBack) w.instance('i-a-new', '10.20.0.20', 'a', 'pending', 'Pending');
    return { w, result: w.node(B2).run() };
  };

  it('the others\' cleanup removes the members of slots whose ASG has no instance, as before', () => {
    const { w, result } = scenario(false);
    expect(result.status, result.stderr).toBe(0);
    expect(w.removed().sort()).toEqual(['aa01', 'aa02', 'bb01']);
    expect(w.members()).toEqual([ADDRESS.b2, B2.ip, ADDRESS.c].sort());
  });

  it('keeps the member of a slot whose ASG is launching its node (it comes back with its volume)', () => {
    const { w } = scenario(true);
    expect(w.removed()).not.toContain('aa01');
    expect(w.removed()).toContain('aa02');
  });
});

describe('node-bootstrap.service ExecStop on a slot', () => {
  const unit = (parse(renderUserData(production)) as CloudConfig).write_files.find((f) => f.path === '/etc/systemd/system/node-bootstrap.service')?.content ?? '';

  it('hands the volume and address over when the ASG terminates it, and keeps the member for the replacement', () => {
    const { w, b1 } = initialisedCluster();
    expect(unit).toMatch(/^ExecStop=\/bin\/bash \/opt\/node-bootstrap\/control-plane\.sh leave$/m);
    // The kubelet's graceful shutdown has stopped the local etcd; the ASG has the instance in Terminating:Proceed.
    w.instance(B1.id, B1.ip, 'b', 'running', 'Terminating:Proceed').member('ee10201100', ADDRESS.b, false);
    const result = b1.run(['leave'], [{ cmd: 'curl', args: '*meta-data/autoscaling/target-lifecycle-state', stdout: 'Terminated' }]);
    expect(result.status, result.stderr).toBe(0);
    expect(callsOf(result.calls, 'etcdctl')).toEqual([]);
    expect(result.calls).toContain('aws ec2 detach-volume --region ap-northeast-2 --volume-id vol-b');
    expect(result.calls).toContain('aws ec2 detach-network-interface --region ap-northeast-2 --attachment-id eni-attach-b');
    expect(result.stderr).toContain('member kept for the replacement');
    expect(w.members()).toEqual([ADDRESS.a, `${ADDRESS.b} (down)`, ADDRESS.c]);
    // EC2 finishes detaching while the instance is still there: the replacement takes both and rejoins.
    const next = w.instance(B2.id, B2.ip, 'b', 'running', 'Pending:Wait').node(B2).run();
    expect(next.status, next.stderr).toBe(0);
    expect(next.stderr).not.toContain('FALLBACK');
    expect(w.members()).toEqual([ADDRESS.a, ADDRESS.b, ADDRESS.c]);
  });

  it('hands the address over even when the volume does not unmount (left for EC2 to free once the instance is gone)', () => {
    const { w, b1 } = initialisedCluster();
    w.instance(B1.id, B1.ip, 'b', 'running', 'Terminating:Proceed').member('ee10201100', ADDRESS.b, false);
    const result = b1.run(['leave'], [
      { cmd: 'curl', args: '*meta-data/autoscaling/target-lifecycle-state', stdout: 'Terminated' },
      { cmd: 'umount', args: '*', exit: 32, run: `echo "umount: $1: target is busy." >&2` },
    ]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain('cannot unmount');
    expect(result.calls).not.toContain('aws ec2 detach-volume --region ap-northeast-2 --volume-id vol-b');
    expect(result.calls).toContain('aws ec2 detach-network-interface --region ap-northeast-2 --attachment-id eni-attach-b');
    expect(w.members()).toEqual([ADDRESS.a, `${ADDRESS.b} (down)`, ADDRESS.c]);
  });
});
