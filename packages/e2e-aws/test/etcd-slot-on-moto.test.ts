import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPlatform } from '@platform/platform-config';
import { bootstrapBundle, renderUserData } from '@platform/node-bootstrap';
import { subnetRouter } from '../src/boot';
import { EmulatedNode } from '../src/emulated-node';
import { emulatorEnv } from '../src/emulator-env';
import { AttachmentWatcher, ebsByIdName } from '../src/host-devices';
import { MotoServer } from '../src/moto';

// The real etcd-slot.sh claim_slot on an emulated node against moto: the slot's volume and ENI
// attached through the real AWS CLI, the devices appearing from what moto then says, and the
// moto behaviours the boot phase works around (BOOT_WORKAROUNDS), shown to be moto's.

const repoRoot = resolve(__dirname, '../../..');
const platform = defaultPlatform();
const cluster = platform.cluster('staging');
const names = platform.namesOf(cluster);
const az = cluster.availabilityZones[0]!;
const asg = names.controlPlaneAsg(az);

describe('etcd-slot.sh claim_slot on an emulated node against moto', () => {
  const work = mkdtempSync(join(tmpdir(), 'e2e-etcd-slot-'));
  let moto: MotoServer;
  let env: NodeJS.ProcessEnv;
  const aws = (...args: string[]) => execFileSync('aws', [...args, '--region', cluster.region, '--output', 'json'], { env, encoding: 'utf8' });
  const json = <T>(...args: string[]) => JSON.parse(aws(...args)) as T;
  const userData = renderUserData({ role: 'control-plane', cluster, settings: platform.settings, names, apiEndpoint: `api.${cluster.name}.internal`, bundleVersionId: 'v1' });
  const bundle = Buffer.from(bootstrapBundle('control-plane').contentBase64, 'base64');
  const slot = { volume: '', eni: '', ip: '', mac: '' };
  let subnet = { SubnetId: '', CidrBlock: '' };

  /** The ASG's instance as a node, its kernel following moto's attachments. */
  const nodeOf = (instanceId: string): EmulatedNode => {
    const [i] = json<{ Reservations: { Instances: { PrivateIpAddress: string; PrivateDnsName: string; VpcId: string; NetworkInterfaces: { MacAddress: string }[] }[] }[] }>('ec2', 'describe-instances', '--instance-ids', instanceId).Reservations[0]!.Instances;
    return new EmulatedNode(join(work, instanceId), { instanceId, availabilityZone: az, privateIp: i!.PrivateIpAddress, privateDnsName: i!.PrivateDnsName, vpcId: i!.VpcId, subnetId: subnet.SubnetId, asg, mac: i!.NetworkInterfaces[0]!.MacAddress, gateway: subnetRouter(subnet.CidrBlock) }, userData, join(work, 'shared'), { PATH: process.env.PATH }, bundle);
  };
  /** claim_slot as control-plane.sh runs it, the devices synced while it waits. */
  const claim = async (node: EmulatedNode) => {
    const watcher = new AttachmentWatcher(async (ids) => json('ec2', 'describe-instances', '--instance-ids', ...ids), 300);
    watcher.watch(node);
    watcher.start();
    // Asynchronous: the watcher syncs the devices while the script waits for them.
    const run = await new Promise<{ code: number; stderr: string }>((done) => {
      const child = spawn('bash', ['-c', '. "$BOOTSTRAP_LIB/lib.sh"; . "$BOOTSTRAP_LIB/etcd-slot.sh"; load_env; node_identity; claim_slot; echo "$ETCD_IP" >&2'], { env: { ...env, ...node.env, SLOT_WAIT_ATTEMPTS: '5' } });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => done({ code: code ?? 1, stderr }));
    });
    await watcher.stop();
    return run;
  };
  const asgInstance = (except?: string) =>
    json<{ AutoScalingGroups: { Instances: { InstanceId: string }[] }[] }>('autoscaling', 'describe-auto-scaling-groups', '--auto-scaling-group-names', asg).AutoScalingGroups[0]!.Instances.map((i) => i.InstanceId).find((id) => id !== except)!;

  beforeAll(async () => {
    const binDir = execFileSync(join(repoRoot, 'tools/e2e/venv.sh'), ['aws'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    mkdirSync(join(work, 'logs'), { recursive: true });
    moto = await MotoServer.start(binDir, join(work, 'logs'));
    env = emulatorEnv({ binDir, workRoot: work, endpoint: moto.endpoint });
    const vpc = json<{ Vpc: { VpcId: string } }>('ec2', 'create-vpc', '--cidr-block', '10.20.0.0/16').Vpc.VpcId;
    subnet = json<{ Subnet: typeof subnet }>('ec2', 'create-subnet', '--vpc-id', vpc, '--cidr-block', '10.20.1.0/24', '--availability-zone', az).Subnet;
    // The slot as aws-cluster's etcdSlot makes it: tagged with the cluster and the slot's ASG.
    const tags = (type: string) => `ResourceType=${type},Tags=[{Key=${names.etcdSlot.slotTagKey},Value=${asg}},{Key=${names.etcdSlot.clusterTagKey},Value=${cluster.name}}]`;
    const eni = json<{ NetworkInterface: { NetworkInterfaceId: string; PrivateIpAddress: string; MacAddress: string } }>('ec2', 'create-network-interface', '--subnet-id', subnet.SubnetId, '--tag-specifications', tags('network-interface')).NetworkInterface;
    slot.volume = json<{ VolumeId: string }>('ec2', 'create-volume', '--availability-zone', az, '--size', '20', '--volume-type', 'gp3', '--tag-specifications', tags('volume')).VolumeId;
    Object.assign(slot, { eni: eni.NetworkInterfaceId, ip: eni.PrivateIpAddress, mac: eni.MacAddress });
    const image = json<string>('ec2', 'describe-images', '--query', 'Images[0].ImageId');
    aws('ec2', 'create-launch-template', '--launch-template-name', asg, '--launch-template-data', JSON.stringify({ ImageId: image, InstanceType: 't3.medium' }));
    execFileSync('aws', ['autoscaling', 'create-auto-scaling-group', '--region', cluster.region, '--auto-scaling-group-name', asg, '--launch-template', `LaunchTemplateName=${asg}`, '--min-size', '1', '--max-size', '1', '--desired-capacity', '1', '--vpc-zone-identifier', subnet.SubnetId], { env });
  }, 240_000);

  afterAll(() => {
    moto?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  let first: EmulatedNode;

  it('attaches the slot through the AWS CLI, finds both devices by what moto says, formats the blank volume once and takes the ENI address', async () => {
    first = nodeOf(asgInstance());
    const run = await claim(first);
    expect(run.stderr).not.toContain('FALLBACK');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.trim().split('\n').pop()).toBe(slot.ip);
    expect(first.file('state/etcd-slot').trim()).toBe(`${slot.volume} ${slot.ip} ${slot.eni} ${slot.mac}`);
    const volume = json<{ Volumes: { Attachments: { InstanceId: string; Device: string }[] }[] }>('ec2', 'describe-volumes', '--volume-ids', slot.volume).Volumes[0]!;
    expect(volume.Attachments[0]).toMatchObject({ InstanceId: first.identity.instanceId, Device: '/dev/sdf' });
    expect(json<{ NetworkInterfaces: { Attachment: { InstanceId: string; DeviceIndex: number } }[] }>('ec2', 'describe-network-interfaces', '--network-interface-ids', slot.eni).NetworkInterfaces[0]!.Attachment).toMatchObject({ InstanceId: first.identity.instanceId, DeviceIndex: 1 });
    expect(readFileSync(join(first.env.DISK_BY_ID!, ebsByIdName(slot.volume)), 'utf8')).toContain('TYPE=ext4');
    expect(first.file('sys/class/net/ens6/address').trim()).toBe(slot.mac);
    expect(first.file('addresses/ens6').trim()).toBe(`${slot.ip}/32`);
    expect(realpathSync(first.env.ETCD_DATA_DIR!)).toBe(realpathSync(join(work, 'shared/ebs', `${slot.volume}.fs`)));
    expect(first.file('host-calls.log').split('\n').filter((l) => l.startsWith('mkfs.ext4 '))).toHaveLength(1);
  }, 120_000);

  it('moto 5.2.6 leaves a terminated instance\'s secondary ENI attached (EC2 detaches it): BOOT_WORKAROUNDS', () => {
    execFileSync('aws', ['autoscaling', 'terminate-instance-in-auto-scaling-group', '--region', cluster.region, '--instance-id', first.identity.instanceId, '--no-should-decrement-desired-capacity'], { env });
    const eni = json<{ NetworkInterfaces: { Status: string; Attachment?: { InstanceId: string; AttachmentId: string } }[] }>('ec2', 'describe-network-interfaces', '--network-interface-ids', slot.eni).NetworkInterfaces[0]!;
    expect(eni.Attachment?.InstanceId).toBe(first.identity.instanceId);
    // The volume it does detach, as EC2 does.
    expect(json<{ Volumes: { State: string }[] }>('ec2', 'describe-volumes', '--volume-ids', slot.volume).Volumes[0]!.State).toBe('available');
    aws('ec2', 'detach-network-interface', '--attachment-id', eni.Attachment!.AttachmentId);
  });

  it('the ASG\'s replacement claims the same slot and keeps its filesystem', async () => {
    const next = nodeOf(asgInstance(first.identity.instanceId));
    expect(next.identity.instanceId).not.toBe(first.identity.instanceId);
    const run = await claim(next);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toContain('FALLBACK');
    expect(next.file('state/etcd-slot').trim()).toBe(`${slot.volume} ${slot.ip} ${slot.eni} ${slot.mac}`);
    expect(next.file('host-calls.log')).not.toContain('mkfs.ext4');
    expect(existsSync(join(next.env.ETCD_DATA_DIR!, 'lost+found'))).toBe(true);
  }, 120_000);

  it('moto 5.2.6 answers DetachVolume without an InstanceId with an error (AWS accepts it): BOOT_WORKAROUNDS', () => {
    const result = spawnSync('aws', ['ec2', 'detach-volume', '--region', cluster.region, '--volume-id', slot.volume], { env, encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(json<{ Volumes: { State: string }[] }>('ec2', 'describe-volumes', '--volume-ids', slot.volume).Volumes[0]!.State).toBe('in-use');
  });
});
