import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { defaultPlatform } from '@platform/platform-config';
import { awsCli } from './aws-cli';
import { stateResources, type StateResource } from './drift';
import { EmulatedNode, STUBBED_BINARIES, type RunningScript, type ScriptResult } from './emulated-node';
import { AttachmentWatcher, nitroInterface } from './host-devices';
import { judgeIdempotence, type PlanJson } from './plan-judge';
import type { Terraform } from './terraform';

export interface BootPhaseOptions {
  readonly workRoot: string;
  readonly env: NodeJS.ProcessEnv;
  /** The cluster stack whose control-plane instances boot. */
  readonly stack: string;
  readonly logDir: string;
  readonly log: (line: string) => void;
  readonly terraform: Terraform;
}

export interface BootCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface BootResult {
  readonly ok: boolean;
  readonly stack: string;
  readonly seconds: number;
  readonly checks: readonly BootCheck[];
  /** Resources `plan` wants to change after the boot, emulator artefacts aside. */
  readonly changesAfterBoot?: number;
}

/** Nothing a node waits for takes longer than this; every wait of the phase is bounded. */
const WAIT_MS = 180_000;

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, abortIf: () => string | undefined = () => undefined): Promise<T> {
  const until = Date.now() + WAIT_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    const abort = abortIf();
    if (abort) throw new Error(`while waiting for ${what}: ${abort}`);
    if (Date.now() > until) throw new Error(`timed out after ${WAIT_MS / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function finished(run: RunningScript, what: string): Promise<ScriptResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      run.kill();
      reject(new Error(`${what} did not finish within ${WAIT_MS / 1000} s:\n${run.stderrSoFar().slice(-1500)}`));
    }, WAIT_MS);
  });
  try {
    return await Promise.race([run.done, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface Instance {
  InstanceId: string;
  PrivateIpAddress: string;
  PrivateDnsName: string;
  Placement: { AvailabilityZone: string };
  State: { Name: string };
  VpcId: string;
  SubnetId: string;
  NetworkInterfaces: { MacAddress: string; Attachment?: { DeviceIndex: number } }[];
}

/** The VPC router of a subnet: its base address + 1 (the default gateway EC2's DHCP hands out). */
export function subnetRouter(cidr: string): string {
  const [base] = cidr.split('/');
  const n = base.split('.').reduce((a, o) => a * 256 + Number(o), 0) + 1;
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/**
 * The node scripts' AWS calls against the applied stack in moto, with the real AWS CLI, from
 * the control-plane instances moto launched for the stack's ASGs, each with the user data of
 * its launch template:
 * 1. all three run control-plane.sh at once: one takes the init lock and dies in `kubeadm
 *    init` (killed); the others wait while EC2 says it runs; once terminated in moto, exactly
 *    one takes over, initialises and publishes the join material, the last one reads it back
 *    and joins;
 * 2. join-material.sh refresh on both at once: one holds the refresh lock, the other backs off;
 *    then an expired lock left by a dead node is broken and the material rewritten;
 * 3. etcd-snapshot.sh on both: the etcd leader uploads with SSE-KMS, listed, and read back the
 *    way a restore does: a URL signed as the stack's restore role (the node role cannot read it);
 * 4. `plan -detailed-exitcode` of the stack, the slots attached: still nothing to change;
 * 5. `control-plane.sh leave` on the three (ExecStop at termination): every slot handed back.
 * Every control-plane.sh first claims its ASG's etcd slot (etcd-slot.sh) for real: volume and ENI
 * attached in moto, the devices shown to the node from moto's answer (src/host-devices.ts); the
 * ASG's replacement of the dead initialiser (1b) must claim the same slot without formatting it.
 * The snapshot objects are removed afterwards (a bucket with objects does not destroy).
 */
export async function runBootPhase(options: BootPhaseOptions): Promise<BootResult> {
  const t0 = performance.now();
  const { env, stack, log } = options;
  const checks: BootCheck[] = [];
  const check = (name: string, ok: boolean, detail: string) => {
    checks.push({ name, ok, detail });
    log(`    ${ok ? '✓' : '✗'} ${name}: ${detail}`);
  };
  const resources = await stateResources(options.terraform, options.workRoot, stack);
  const asgNames = resources.filter((r) => r.type === 'aws_autoscaling_group').map((r) => String(r.values.name));
  const anyAsg = resources.find((r) => r.type === 'aws_autoscaling_group');
  if (!anyAsg) throw new Error(`boot: ${stack} has no autoscaling group`);
  const region = String(anyAsg.values.arn).split(':')[3];
  const cli = awsCli(env, options.workRoot);
  const aws = (...args: string[]) => cli(...args, '--region', region);
  const json = async <T>(...args: string[]): Promise<T> => JSON.parse(await aws(...args, '--output', 'json')) as T;

  // The instances moto launched for the ASGs, and the user data of the template each came from.
  const groups = (await json<{ AutoScalingGroups: { AutoScalingGroupName: string; LaunchTemplate?: unknown; Instances: { InstanceId: string; LaunchTemplate?: { LaunchTemplateId: string; Version: string } }[] }[] }>(
    'autoscaling', 'describe-auto-scaling-groups', '--auto-scaling-group-names', ...asgNames,
  )).AutoScalingGroups;
  const root = join(options.workRoot, 'boot', stack);
  const shared = join(root, 'shared');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(shared, { recursive: true });
  /** A node for an ASG member: the user data of the template it launched from, its identity from EC2. */
  const emulate = async (asg: string, member: { InstanceId: string; LaunchTemplate?: { LaunchTemplateId: string; Version: string } }): Promise<EmulatedNode | undefined> => {
    if (!member.LaunchTemplate) return undefined;
    const version = await json<{ LaunchTemplateVersions: { LaunchTemplateData: { UserData?: string } }[] }>(
      'ec2', 'describe-launch-template-versions', '--launch-template-id', member.LaunchTemplate.LaunchTemplateId, '--versions', member.LaunchTemplate.Version,
    );
    const encoded = version.LaunchTemplateVersions[0]?.LaunchTemplateData.UserData;
    if (!encoded) return undefined;
    const userData = gunzipSync(Buffer.from(encoded, 'base64')).toString('utf8');
    const [instance] = (await json<{ Reservations: { Instances: Instance[] }[] }>('ec2', 'describe-instances', '--instance-ids', member.InstanceId)).Reservations.flatMap((r) => r.Instances);
    const [subnet] = (await json<{ Subnets: { CidrBlock: string }[] }>('ec2', 'describe-subnets', '--subnet-ids', instance.SubnetId)).Subnets;
    const node = new EmulatedNode(join(root, member.InstanceId), {
      instanceId: instance.InstanceId,
      availabilityZone: instance.Placement.AvailabilityZone,
      privateIp: instance.PrivateIpAddress,
      privateDnsName: instance.PrivateDnsName,
      vpcId: instance.VpcId,
      subnetId: instance.SubnetId,
      asg,
      mac: instance.NetworkInterfaces.find((n) => n.Attachment?.DeviceIndex === 0)?.MacAddress ?? '',
      gateway: subnetRouter(subnet.CidrBlock),
    }, userData, shared, env);
    return node.param('ROLE') === 'control-plane' ? node : undefined;
  };
  const nodes: EmulatedNode[] = [];
  // Worker pools launch through a mixed instances policy; control-plane groups name their template.
  for (const group of groups.filter((g) => g.LaunchTemplate)) {
    for (const member of group.Instances) {
      const node = await emulate(group.AutoScalingGroupName, member);
      if (node) nodes.push(node);
    }
  }
  log(`  ${nodes.length} control-plane instances in moto: ${nodes.map((n) => `${n.identity.instanceId} (${n.identity.asg}, ${n.identity.privateIp})`).join(', ')}; stubbed, not exercised: ${STUBBED_BINARIES.join(', ')}`);
  if (nodes.length !== 3) throw new Error(`boot: expected 3 control-plane instances in ${stack}, moto has ${nodes.length}`);
  const p = (key: string) => nodes[0].param(key);
  const running: RunningScript[] = [];
  const logFile = (what: string, node: EmulatedNode) => join(options.logDir, `${stack}-boot-${what}-${node.identity.instanceId}.log`);
  // The kernel side of EC2's attachments: each node's NVMe disks and interfaces follow what moto says.
  const devices = new AttachmentWatcher((ids) => json('ec2', 'describe-instances', '--instance-ids', ...ids));
  nodes.forEach((n) => devices.watch(n));
  const slots = etcdSlots(resources, p('ETCD_SLOT_TAG'));
  /** The nodes that hold their slots when the boot ends; they leave after the plan (step 5). */
  let holders: EmulatedNode[] = [];
  const members = () => readFileSync(join(shared, 'etcd-members'), 'utf8');
  /** A node's claim as etcd-slot.sh made it, against Terraform's slot for its ASG and what moto says is attached. */
  const checkSlot = async (n: EmulatedNode, kubeadmConfig: string, stderr: string): Promise<void> => {
    const id = n.identity.instanceId;
    const want = slots.of(n.identity.asg);
    const claimed = n.file('state/etcd-slot').trim();
    const [volume] = (await json<{ Volumes: { Attachments: { InstanceId: string; State: string; Device: string }[] }[] }>('ec2', 'describe-volumes', '--volume-ids', want.volume)).Volumes;
    const [eni] = (await json<{ NetworkInterfaces: { MacAddress: string; Attachment?: { InstanceId: string; DeviceIndex: number; Status: string } }[] }>('ec2', 'describe-network-interfaces', '--network-interface-ids', want.eni)).NetworkInterfaces;
    // The slot file's fourth field is the ENI's MAC (a reboot finds the interface by it without EC2).
    const slotLine = `${want.volume} ${want.ip} ${want.eni} ${eni?.MacAddress ?? 'no-such-eni'}`;
    check(
      `${id}: its slot file names its AZ's etcd volume, address and the ENI's MAC`,
      want.availabilityZone === n.identity.availabilityZone && claimed === slotLine && !stderr.includes('FALLBACK:'),
      `'${claimed}'; Terraform's slot of ${n.identity.asg} in ${want.availabilityZone} with moto's MAC: ${slotLine}`,
    );
    const [va, ea] = [volume?.Attachments[0], eni?.Attachment];
    check(
      `${id}: moto shows its slot's volume and ENI attached to it`,
      va?.InstanceId === id && va.State === 'attached' && va.Device === '/dev/sdf' && ea?.InstanceId === id && ea.DeviceIndex === 1 && ea.Status === 'attached',
      `${want.volume}: ${va?.InstanceId ?? 'none'} ${va?.Device ?? ''} ${va?.State ?? ''}; ${want.eni}: ${ea?.InstanceId ?? 'none'} index ${ea?.DeviceIndex ?? '-'} ${ea?.Status ?? ''}`,
    );
    const advertised = /advertiseAddress: *['"]?([0-9.]+)/.exec(n.file(kubeadmConfig))?.[1];
    const dev = nitroInterface(1);
    const [mac, configured] = [n.file(`sys/class/net/${dev}/address`).trim(), n.file(`addresses/${dev}`).trim()];
    check(
      `${id}: advertises the ENI's address, configured on the ENI's interface`,
      advertised === want.ip && mac === eni?.MacAddress && configured === `${want.ip}/32` && members().includes(`https://${want.ip}:2380,`),
      `${kubeadmConfig} advertiseAddress ${advertised ?? 'none'}; ${dev} (MAC ${mac || 'none'}, moto: ${eni?.MacAddress ?? 'none'}) has ${configured || 'no address'}; etcd peer URL https://${want.ip}:2380`,
    );
    const data = existsSync(n.env.ETCD_DATA_DIR) ? realpathSync(n.env.ETCD_DATA_DIR) : 'missing';
    const image = join(realpathSync(shared), 'ebs', `${want.volume}.fs`);
    check(`${id}: etcd's data dir is the volume's filesystem`, data === image && existsSync(join(data, 'member')), `${n.env.ETCD_DATA_DIR} → ${data}`);
  };

  try {
    devices.start();
    // What the scripts are told in their env file must name what Terraform created.
    const cpAsgs = [...new Set(nodes.map((n) => n.identity.asg))].sort().join(' ');
    check('env names the control-plane ASGs', [...p('CONTROL_PLANE_ASGS').split(' ')].sort().join(' ') === cpAsgs, `CONTROL_PLANE_ASGS='${p('CONTROL_PLANE_ASGS')}', ASGs with control-plane user data: ${cpAsgs}`);
    const kmsKey = p('KMS_KEY');
    const keyId = (await json<{ KeyMetadata: { KeyId: string } }>('kms', 'describe-key', '--key-id', kmsKey)).KeyMetadata.KeyId;
    // moto echoes the alias the object was written with; AWS answers the key's ARN.
    const sameKey = (id: string | undefined) => id === kmsKey || id === keyId || (id?.endsWith(`:key/${keyId}`) ?? false);
    const alias = resources.find((r) => r.type === 'aws_kms_alias' && r.values.name === kmsKey);
    // moto accepts any key id on SecureStrings and SSE-KMS; AWS rejects one that does not resolve.
    check('KMS_KEY resolves to the stack\'s key', alias?.values.target_key_id === keyId, `${kmsKey} → ${keyId} (state: ${String(alias?.values.target_key_id)})`);

    // The nodes fetched their script bundle from the bootstrap bucket (fetch-bundle.py, SHA-256 checked) to get here.
    check('every node fetched its pinned script bundle from S3', nodes.every((n) => n.file('lib/control-plane.sh').length > 0), `${String(resources.find((r) => r.type === 'aws_s3_object')?.values.bucket)}: version and SHA-256 from each launch template`);
    // Every control-plane node publishes the service-account issuer documents at the end of its boot.
    const issuerBucket = p('SA_ISSUER_BUCKET');
    const issuerPolicy = JSON.parse(await aws('s3api', 'get-bucket-policy', '--bucket', issuerBucket, '--output', 'json')) as { Policy: string };
    await aws('s3api', 'delete-bucket-policy', '--bucket', issuerBucket); // BOOT_WORKAROUNDS[0], for the issuer bucket

    // 1. The init race, a dead initialiser, the takeover and the join.
    log('  boot 1: control-plane.sh on all three at once');
    const lock = p('SSM_INIT_LOCK');
    const boots = nodes.map((n) => n.start('control-plane.sh', [], env, logFile('control-plane', n), { LOCK_WAIT_ATTEMPTS: '120', SLOT_WAIT_ATTEMPTS: '30' }));
    running.push(...boots);
    const exitedEarly = () => {
      const i = boots.findIndex((b) => b.stderrSoFar().includes('FAILED') || b.stderrSoFar().includes('control plane ready'));
      return i >= 0 ? `${nodes[i].identity.instanceId} finished first:\n${boots[i].stderrSoFar().slice(-1500)}` : undefined;
    };
    const firstId = await waitFor('the lock holder to reach kubeadm init', () => (existsSync(join(shared, 'first-init/holder')) ? readFileSync(join(shared, 'first-init/holder'), 'utf8').trim() : undefined), exitedEarly);
    const first = nodes.findIndex((n) => n.identity.instanceId === firstId);
    const others = nodes.filter((_, i) => i !== first);
    const lockValue = (await aws('ssm', 'get-parameter', '--name', lock, '--query', 'Parameter.Value', '--output', 'text')).trim();
    check('one node holds the init lock', lockValue === firstId, `${lock} = ${lockValue}; ${firstId} is in kubeadm init`);
    await waitFor('the other two to wait for the lock holder', () => (others.every((n) => boots[nodes.indexOf(n)].stderrSoFar().includes(`waiting for ${firstId} to publish`)) ? true : undefined), exitedEarly);
    check('no takeover while the holder runs', others.every((n) => !boots[nodes.indexOf(n)].stderrSoFar().includes('took over')), `both others waited: EC2 says ${firstId} is running`);
    boots[first].kill();
    await boots[first].done;
    // What the ASG does with an instance that failed: terminate it, launch a replacement (BOOT_WORKAROUNDS).
    await aws('autoscaling', 'terminate-instance-in-auto-scaling-group', '--instance-id', firstId, '--no-should-decrement-desired-capacity');
    devices.forget(firstId);
    const freed = await detachSecondaryEnis(json, aws, firstId);
    log(`  ${firstId} killed in kubeadm init and terminated through its ASG${freed.length > 0 ? `; its secondary ENI ${freed.join(', ')} detached as EC2 does at termination (BOOT_WORKAROUNDS)` : ''}`);
    const results = await Promise.all(others.map((n) => finished(boots[nodes.indexOf(n)], `control-plane.sh on ${n.identity.instanceId}`)));
    const took = nodes.filter((_, i) => boots[i].stderrSoFar().includes('took the init lock'));
    check('exactly one node won the init race', took.length === 1, `took the lock: ${took.map((n) => n.identity.instanceId).join(', ') || 'none'}`);
    const takers = others.filter((n) => boots[nodes.indexOf(n)].stderrSoFar().includes(`initialiser ${firstId} died before publishing join material; took over`));
    check('exactly one node took over from the dead initialiser', takers.length === 1, `took over: ${takers.map((n) => n.identity.instanceId).join(', ') || 'none'}`);
    check('both surviving nodes finished', results.every((r) => r.code === 0), results.map((r, i) => `${others[i].identity.instanceId} exit ${r.code}`).join(', '));
    if (takers.length !== 1 || results.some((r) => r.code !== 0)) throw new Error('boot: the init and takeover did not end with one initialiser and one joiner');
    const [taker] = takers;
    const joiner = others.find((n) => n !== taker)!;
    const takeover = (await aws('ssm', 'get-parameter', '--name', `${lock}/takeover-${firstId}`, '--query', 'Parameter.Value', '--output', 'text')).trim();
    check('takeover lock names the new initialiser', takeover === taker.identity.instanceId, `${lock}/takeover-${firstId} = ${takeover}`);
    check('the joiner joined the new initialiser', boots[nodes.indexOf(joiner)].stderrSoFar().includes(`cluster initialised by ${taker.identity.instanceId}; joining`), `${joiner.identity.instanceId}: kubeadm join`);
    await checkSlot(taker, 'state/kubeadm-init.yaml', boots[nodes.indexOf(taker)].stderrSoFar());
    await checkSlot(joiner, 'state/kubeadm-join.yaml', boots[nodes.indexOf(joiner)].stderrSoFar());

    // 1b. The ASG's replacement of the dead initialiser, in the same AZ, claims the same slot.
    const dead = nodes[first];
    const [group] = (await json<{ AutoScalingGroups: { Instances: { InstanceId: string; LaunchTemplate?: { LaunchTemplateId: string; Version: string } }[] }[] }>('autoscaling', 'describe-auto-scaling-groups', '--auto-scaling-group-names', dead.identity.asg)).AutoScalingGroups;
    const launched = group?.Instances.find((i) => i.InstanceId !== firstId);
    const replacement = launched && (await emulate(dead.identity.asg, launched));
    if (!replacement) throw new Error(`boot: ${dead.identity.asg} launched no replacement for ${firstId}`);
    log(`  boot 1b: control-plane.sh on ${replacement.identity.instanceId}, the replacement ${dead.identity.asg} launched in ${replacement.identity.availabilityZone}`);
    devices.watch(replacement);
    const replacing = replacement.start('control-plane.sh', [], env, logFile('control-plane', replacement), { LOCK_WAIT_ATTEMPTS: '30', SLOT_WAIT_ATTEMPTS: '30' });
    running.push(replacing);
    const replaced = await finished(replacing, `control-plane.sh on ${replacement.identity.instanceId}`);
    check('the replacement joined', replaced.code === 0 && replaced.stderr.includes(`cluster initialised by ${taker.identity.instanceId}; joining`), `${replacement.identity.instanceId} exit ${replaced.code}`);
    await checkSlot(replacement, 'state/kubeadm-join.yaml', replaced.stderr);
    const deadSlot = dead.file('state/etcd-slot').trim();
    const formatted = (n: EmulatedNode) => n.file('host-calls.log').split('\n').filter((l) => l.startsWith('mkfs.ext4 ') && l.endsWith('=> 0'));
    check(
      'the replacement holds the dead node\'s slot, its filesystem kept',
      deadSlot !== '' && replacement.file('state/etcd-slot').trim() === deadSlot && formatted(dead).length === 1 && formatted(replacement).length === 0,
      `${firstId} claimed '${deadSlot}' and formatted it (${formatted(dead).length}x) before it died in kubeadm init; ${replacement.identity.instanceId} claimed '${replacement.file('state/etcd-slot').trim()}', formatted ${formatted(replacement).length}x`,
    );
    holders = [taker, joiner, replacement];

    const material = ['SSM_JOIN_TOKEN', 'SSM_CA_CERT_HASH', 'SSM_CERTIFICATE_KEY'].map(p);
    const readMaterial = async () =>
      (await json<{ Parameters: { Name: string; Value: string; Version: number }[] }>('ssm', 'get-parameters', '--names', ...material, '--with-decryption')).Parameters;
    const described = (await json<{ Parameters: { Name: string; Type: string; KeyId?: string }[] }>('ssm', 'describe-parameters', '--parameter-filters', `Key=Name,Values=${material.join(',')}`)).Parameters;
    check('join material is SecureString under the cluster key', described.length === 3 && described.every((d) => d.Type === 'SecureString' && d.KeyId === kmsKey), described.map((d) => `${d.Name} ${d.Type} ${d.KeyId ?? '-'}`).join('; '));
    const published = await readMaterial();
    const joinConfig = joiner.file('state/kubeadm-join.yaml');
    check('the joiner read the published material back', published.length === 3 && published.every((m) => m.Value.length > 0 && joinConfig.includes(m.Value)), `token, CA hash and certificate key from SSM are in ${joiner.identity.instanceId}'s kubeadm-join.yaml`);
    const issuerObject = async (key: string) => {
      const file = join(root, key.replace(/\//g, '_'));
      const head = await json<{ ContentType?: string }>('s3api', 'get-object', '--bucket', issuerBucket, '--key', key, file);
      return { type: head.ContentType, body: readFileSync(file, 'utf8') };
    };
    const discovery = await issuerObject(p('SA_DISCOVERY_KEY'));
    const jwks = await issuerObject(p('SA_JWKS_KEY'));
    const kid = createHash('sha256').update(createPublicKey(readFileSync(join(shared, 'sa.pub'))).export({ type: 'spki', format: 'der' })).digest('base64url');
    const documents = { issuer: (JSON.parse(discovery.body || '{}') as { issuer?: string }).issuer, kids: ((JSON.parse(jwks.body || '{}') as { keys?: { kid: string }[] }).keys ?? []).map((k) => k.kid) };
    check(
      'the issuer documents are published from the cluster key',
      discovery.type === 'application/json' && jwks.type === 'application/json' && documents.issuer === p('SA_ISSUER_URL') && documents.kids.join() === kid,
      `s3://${issuerBucket}: ${discovery.type}/${jwks.type}, issuer ${documents.issuer}, kids ${documents.kids.join(' ')} (sa.pub: ${kid})`,
    );
    // Each node recorded the key set its API server started with (service-account-key-rotation.sh gates its phases on these).
    const keySets = await Promise.all(holders.map(async (n) => (await aws('ssm', 'get-parameter', '--name', `${p('SSM_SA_KEY_ACKS')}/${n.identity.instanceId}`, '--query', 'Parameter.Value', '--output', 'text').catch((e: Error) => e.message)).trim()));
    check('every node recorded its service-account key set', keySets.every((v) => v === `signing=${kid} accepted=${kid}`), keySets.join('; '));
    for (const key of [p('SA_DISCOVERY_KEY'), p('SA_JWKS_KEY')]) await aws('s3api', 'delete-object', '--bucket', issuerBucket, '--key', key);
    await aws('s3api', 'put-bucket-policy', '--bucket', issuerBucket, '--policy', issuerPolicy.Policy);

    const peerUrls = members().trim().split('\n').map((l) => l.split(', ')[3]).sort();
    const slotUrls = holders.map((n) => `https://${slots.of(n.identity.asg).ip}:2380`).sort();
    check('etcd members are the three slots\' addresses', peerUrls.join(' ') === slotUrls.join(' '), `members ${peerUrls.join(' ')}; slots ${slotUrls.join(' ')}`);

    // 2. Refresh lock: two nodes refresh at once; then a dead node's expired lock is broken.
    log('  boot 2: join-material.sh refresh on both at once, one held in its upload');
    const refreshLock = p('SSM_JOIN_REFRESH_LOCK');
    const later = String(Math.floor(Date.now() / 1000) + Number(p('JOIN_REFRESH_AFTER_SECONDS')) + 60);
    const tokenBefore = published.find((m) => m.Name === p('SSM_JOIN_TOKEN'))!;
    writeFileSync(join(shared, 'hold-upload-certs'), '');
    const holding = taker.start('join-material.sh', ['refresh'], env, logFile('refresh-holder', taker), { BOOTSTRAP_NOW_EPOCH: later });
    running.push(holding);
    await waitFor('the refresh lock', () => (holding.stderrSoFar().includes('[upload-certs] step started') ? true : undefined), () => (holding.stderrSoFar().includes('FAILED') ? holding.stderrSoFar() : undefined));
    const second = await finished(joiner.start('join-material.sh', ['refresh'], env, logFile('refresh-second', joiner), { BOOTSTRAP_NOW_EPOCH: later }), 'the second refresh');
    check('the second refresher backs off', second.code === 0 && second.stderr.includes(`join material refresh held by ${taker.identity.instanceId}`) && !second.stderr.includes('join material published'), `${joiner.identity.instanceId} exit ${second.code}: ${/held by [^\n]*/.exec(second.stderr)?.[0] ?? 'no "held by"'}`);
    rmSync(join(shared, 'hold-upload-certs'));
    const first1 = await finished(holding, 'the holding refresh');
    const tokenAfter = (await readMaterial()).find((m) => m.Name === tokenBefore.Name)!;
    check('the holder refreshed and released', first1.code === 0 && first1.stderr.includes('join material published') && tokenAfter.Version === tokenBefore.Version + 1 && tokenAfter.Value !== tokenBefore.Value && (await lockAbsent(aws, refreshLock)), `token version ${tokenBefore.Version} → ${tokenAfter.Version}, lock ${refreshLock} released`);
    const stale = `${firstId} ${Math.floor(Date.now() / 1000) - 10}`;
    await aws('ssm', 'put-parameter', '--name', refreshLock, '--value', stale, '--type', 'String');
    const breaker = await finished(joiner.start('join-material.sh', ['refresh'], env, logFile('refresh-break', joiner), { BOOTSTRAP_NOW_EPOCH: later }), 'the refresh that breaks an expired lock');
    const broken = await aws('ssm', 'get-parameter', '--name', `${refreshLock}/break-${stale.replace(/[^a-zA-Z0-9_.-]/g, '_')}`, '--query', 'Parameter.Value', '--output', 'text').catch(() => '');
    check('an expired refresh lock is broken once', breaker.code === 0 && breaker.stderr.includes(`broke the expired refresh lock of ${firstId}`) && breaker.stderr.includes('join material published') && broken.trim() === joiner.identity.instanceId && (await lockAbsent(aws, refreshLock)), `lock '${stale}' of the dead node broken by ${broken.trim() || 'nobody'}`);

    // 3. etcd snapshot: the timer runs on both; the leader uploads.
    log('  boot 3: etcd-snapshot.sh on both');
    const bucket = p('BACKUP_BUCKET');
    const snapshotStep = async (): Promise<void> => {
      const snaps = await Promise.all([taker, joiner].map((n) => finished(n.start('etcd-snapshot.sh', [], env, logFile('etcd-snapshot', n)), `etcd-snapshot.sh on ${n.identity.instanceId}`)));
      const prefix = `${p('SNAPSHOT_PREFIX')}/`;
      check('only the etcd leader uploads', snaps[0].code === 0 && snaps[0].stderr.includes(`stored s3://${bucket}/`) && snaps[1].code === 0 && snaps[1].stderr.includes('not the etcd leader'), `${taker.identity.instanceId} exit ${snaps[0].code}, ${joiner.identity.instanceId} exit ${snaps[1].code}`);
      const keys = (await json<{ Contents?: { Key: string }[] }>('s3api', 'list-objects-v2', '--bucket', bucket, '--prefix', prefix)).Contents?.map((c) => c.Key) ?? [];
      if (keys.length > 0) {
        const head = await json<{ ServerSideEncryption?: string; SSEKMSKeyId?: string }>('s3api', 'head-object', '--bucket', bucket, '--key', keys[0]);
        const archive = join(root, 'snapshot.tar.gz');
        await downloadAsRestoreRole(keys[0], archive);
        const listing = execFileSync('tar', ['-tzf', archive], { encoding: 'utf8' }).split('\n').filter(Boolean);
        check('snapshot listed back, SSE-KMS with the cluster key, read through the restore role\'s signed URL', keys.length === 1 && head.ServerSideEncryption === 'aws:kms' && sameKey(head.SSEKMSKeyId) && listing.includes('snapshot.db') && listing.includes('pki/etcd/ca.key'), `s3://${bucket}/${keys.join(', ')}: ${head.ServerSideEncryption} ${head.SSEKMSKeyId}; archive holds ${listing.join(' ')}`);
      } else {
        check('snapshot listed back, SSE-KMS with the cluster key, read through the restore role\'s signed URL', false, `nothing under s3://${bucket}/${prefix}`);
      }
      check('the leader recorded the upload time', taker.file('textfile/etcd_snapshot.prom').includes(p('SNAPSHOT_METRIC')), 'node-exporter textfile written');
      await emptyBucket(json, aws, bucket, prefix);
    };
    // etcd-restore.sh request's way in: assume the restore role, sign a GET URL with its session, download through it.
    const restoreRoleName = defaultPlatform().namesOf(p('CLUSTER_NAME')).etcdRestoreRole;
    const downloadAsRestoreRole = async (key: string, file: string): Promise<void> => {
      const restoreRole = resources.find((r) => r.type === 'aws_iam_role' && r.values.name === restoreRoleName);
      if (!restoreRole) throw new Error(`boot: ${stack} has no restore role ${restoreRoleName}`);
      const session = await json<{ Credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string } }>('sts', 'assume-role', '--role-arn', String(restoreRole.values.arn), '--role-session-name', 'e2e-etcd-restore');
      const signer = awsCli({ ...env, AWS_ACCESS_KEY_ID: session.Credentials.AccessKeyId, AWS_SECRET_ACCESS_KEY: session.Credentials.SecretAccessKey, AWS_SESSION_TOKEN: session.Credentials.SessionToken }, options.workRoot);
      const url = (await signer('s3', 'presign', `s3://${bucket}/${key}`, '--region', region, '--expires-in', '900')).trim();
      const response = await fetch(url);
      if (!response.ok) throw new Error(`boot: GET of ${key} through the restore role's URL answered ${response.status}`);
      writeFileSync(file, Buffer.from(await response.arrayBuffer()));
    };
    const policy = JSON.parse(await aws('s3api', 'get-bucket-policy', '--bucket', bucket, '--output', 'json')) as { Policy: string };
    await aws('s3api', 'delete-bucket-policy', '--bucket', bucket); // BOOT_WORKAROUNDS[0]
    try {
      await snapshotStep();
    } finally {
      await aws('s3api', 'put-bucket-policy', '--bucket', bucket, '--policy', policy.Policy);
    }
  } finally {
    for (const run of running) run.kill();
    await devices.stop();
    if (devices.errors.length > 0) check('the devices followed moto', false, devices.errors.slice(0, 3).join('; '));
  }

  // 4. Nothing the nodes did is Terraform's: the stack still plans no change.
  log(`  boot 4: ${stack} plan -detailed-exitcode after the boot`);
  const dir = join(options.workRoot, 'apps/infra/cdktf.out/stacks', stack);
  const plan = await options.terraform.run(stack, 'plan-after-boot', dir, ['plan', '-detailed-exitcode', '-input=false', '-out=after-boot.tfplan'], [0, 2]);
  const verdict = judgeIdempotence(JSON.parse((await options.terraform.run(stack, 'show-after-boot', dir, ['show', '-json', 'after-boot.tfplan'])).stdout) as PlanJson);
  check('no change after the boot', verdict.changed.length === 0, `plan exit ${plan.code}; ${verdict.changed.length} resources changed beyond the emulator artefacts${verdict.changed.map((c) => `; ${c.address} (${c.paths.join(', ')})`).join('')}`);

  // 5. The nodes leave as ExecStop does at termination (target state Terminated): each unmounts and hands
  // its slot back, member kept. Also what lets destroy delete the volumes: DeleteVolume of an attached
  // volume fails (VolumeInUse), in AWS and in moto.
  log('  boot 5: control-plane.sh leave on every node (ExecStop at termination): the slots handed back');
  try {
    for (const n of holders) {
      const id = n.identity.instanceId;
      const want = slots.of(n.identity.asg);
      const left = await finished(n.start('control-plane.sh', ['leave'], env, logFile('leave', n), { E2E_TARGET_LIFECYCLE_STATE: 'Terminated' }), `control-plane.sh leave on ${id}`);
      // moto answers DetachVolume without an InstanceId with a 500 (BOOT_WORKAROUNDS): detached as AWS would have.
      const volumeGap = left.stderr.includes(`detach-volume ${want.volume} failed`);
      if (volumeGap) await aws('ec2', 'detach-volume', '--volume-id', want.volume, '--instance-id', id);
      const [volume] = (await json<{ Volumes: { State: string }[] }>('ec2', 'describe-volumes', '--volume-ids', want.volume)).Volumes;
      const [eni] = (await json<{ NetworkInterfaces: { Status: string }[] }>('ec2', 'describe-network-interfaces', '--network-interface-ids', want.eni)).NetworkInterfaces;
      check(
        `${id} left: slot handed back, member kept`,
        left.code === 0 && left.stderr.includes(`handed over etcd volume ${want.volume} and address ${want.ip}`) && !n.file('mounts').includes(' ') && volume?.State === 'available' && eni?.Status === 'available' && members().includes(`https://${want.ip}:2380,`),
        `exit ${left.code}; unmounted; ${want.volume} ${volume?.State}${volumeGap ? ' (detached by the run: moto gap)' : ''}, ${want.eni} ${eni?.Status}; member https://${want.ip}:2380 kept`,
      );
    }
  } finally {
    // Whatever a failed boot left attached would stop destroy.
    await freeSlots(json, aws, slots.all());
  }
  return { ok: checks.every((c) => c.ok), stack, seconds: (performance.now() - t0) / 1000, checks, changesAfterBoot: verdict.changed.length };
}

async function lockAbsent(aws: (...args: string[]) => Promise<string>, name: string): Promise<boolean> {
  try {
    await aws('ssm', 'get-parameter', '--name', name);
    return false;
  } catch (error) {
    return (error as Error).message.includes('ParameterNotFound');
  }
}

/** Deletes every version and delete marker under the prefix: a bucket with objects does not destroy, in AWS or moto. */
async function emptyBucket(json: <T>(...args: string[]) => Promise<T>, aws: (...args: string[]) => Promise<string>, bucket: string, prefix: string): Promise<void> {
  const listed = await json<{ Versions?: { Key: string; VersionId: string }[]; DeleteMarkers?: { Key: string; VersionId: string }[] }>('s3api', 'list-object-versions', '--bucket', bucket, '--prefix', prefix);
  for (const v of [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])]) await aws('s3api', 'delete-object', '--bucket', bucket, '--key', v.Key, '--version-id', v.VersionId);
}

/** Terraform's etcd slots by ASG: the volume and ENI tagged `<ETCD_SLOT_TAG> = <ASG>` (docs/decisions/etcd-volumes.md). */
export function etcdSlots(resources: readonly StateResource[], slotTag: string) {
  const tagged = (type: string) => resources.filter((r) => r.type === type && typeof (r.values.tags as Record<string, string> | null | undefined)?.[slotTag] === 'string');
  const asgOf = (r: StateResource) => (r.values.tags as Record<string, string>)[slotTag];
  const [volumes, enis] = [tagged('aws_ebs_volume'), tagged('aws_network_interface')];
  const of = (asg: string) => {
    const volume = volumes.find((r) => asgOf(r) === asg);
    const eni = enis.find((r) => asgOf(r) === asg);
    if (!volume || !eni) throw new Error(`boot: no etcd volume and ENI tagged ${slotTag}=${asg} in the state`);
    return { volume: String(volume.values.id), availabilityZone: String(volume.values.availability_zone), eni: String(eni.values.id), ip: String(eni.values.private_ip) };
  };
  return { of, all: () => volumes.map((v) => of(asgOf(v))) };
}

/**
 * EC2 detaches a terminated instance's secondary ENIs (those not deleted with it stay, available);
 * moto 5.2.6's Instance.terminate leaves them attached (BOOT_WORKAROUNDS). Returns the ENIs detached.
 */
async function detachSecondaryEnis(json: <T>(...args: string[]) => Promise<T>, aws: (...args: string[]) => Promise<string>, instanceId: string): Promise<string[]> {
  const held = (await json<{ NetworkInterfaces: { NetworkInterfaceId: string; Attachment?: { AttachmentId: string; DeviceIndex: number } }[] }>('ec2', 'describe-network-interfaces', '--filters', `Name=attachment.instance-id,Values=${instanceId}`)).NetworkInterfaces;
  const secondary = held.filter((e) => e.Attachment && e.Attachment.DeviceIndex !== 0);
  for (const e of secondary) await aws('ec2', 'detach-network-interface', '--attachment-id', e.Attachment!.AttachmentId);
  return secondary.map((e) => e.NetworkInterfaceId);
}

/** Detaches every slot volume and ENI still attached (after a failed boot), so destroy can delete them. */
async function freeSlots(json: <T>(...args: string[]) => Promise<T>, aws: (...args: string[]) => Promise<string>, slots: readonly { volume: string; eni: string }[]): Promise<void> {
  for (const slot of slots) {
    const [volume] = (await json<{ Volumes: { Attachments: { InstanceId: string }[] }[] }>('ec2', 'describe-volumes', '--volume-ids', slot.volume)).Volumes;
    const holder = volume?.Attachments[0]?.InstanceId;
    if (holder) await aws('ec2', 'detach-volume', '--volume-id', slot.volume, '--instance-id', holder);
    const [eni] = (await json<{ NetworkInterfaces: { Attachment?: { AttachmentId: string } }[] }>('ec2', 'describe-network-interfaces', '--network-interface-ids', slot.eni)).NetworkInterfaces;
    if (eni?.Attachment) await aws('ec2', 'detach-network-interface', '--attachment-id', eni.Attachment.AttachmentId);
  }
}
