import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultPlatform } from '@platform/platform-config';
import { bootstrapBundle, renderUserData } from '@platform/node-bootstrap';
import { EmulatedNode } from '../src/emulated-node';
import { applyAttachedDevices, ebsByIdName } from '../src/host-devices';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
// The tests block the worker in spawnSync back to back: one event-loop turn after each lets it read
// vitest's RPC replies, which otherwise time out on a loaded machine ("Timeout calling onTaskUpdate").
afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)));
const VOL = 'vol-0123456789abcdef0';
const MAC = '02:00:00:aa:bb:cc';

function node(shared: string, instanceId = 'i-0abc'): EmulatedNode {
  const platform = defaultPlatform();
  const cluster = platform.cluster('staging');
  const userData = renderUserData({ role: 'control-plane', cluster, settings: platform.settings, names: platform.namesOf(cluster), apiEndpoint: 'api.staging.internal', bundleVersionId: 'v1' });
  return new EmulatedNode(join(shared, instanceId), { instanceId, availabilityZone: 'ap-northeast-2a', privateIp: '10.20.1.5', privateDnsName: 'ip-10-20-1-5', vpcId: 'vpc-0e2e', subnetId: 'subnet-0e2e', asg: 'staging-control-plane-a', mac: '02:00:00:00:00:05', gateway: '10.20.1.1' }, userData, shared, { PATH: process.env.PATH }, Buffer.from(bootstrapBundle('control-plane').contentBase64, 'base64'));
}
function shared(): string {
  const dir = mkdtempSync(join(tmpdir(), 'host-devices-'));
  dirs.push(dir);
  return dir;
}
const attached = (volume: boolean, eni: boolean) => ({
  BlockDeviceMappings: volume ? [{ DeviceName: '/dev/sdf', Ebs: { VolumeId: VOL, Status: 'attached' } }] : [],
  NetworkInterfaces: [{ MacAddress: '02:00:00:00:00:05', Attachment: { DeviceIndex: 0, Status: 'attached' } }, ...(eni ? [{ MacAddress: MAC, Attachment: { DeviceIndex: 1, Status: 'attached' } }] : [])],
});
const sh = (n: EmulatedNode, script: string) => spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, ...n.env }, cwd: n.root });

describe('applyAttachedDevices: what the kernel shows of EC2 attachments', () => {
  it('shows an attached volume by its NVMe serial and an ENI by device index with its MAC, and nothing once detached', () => {
    const root = shared();
    const paths = { diskById: join(root, 'by-id'), sysNet: join(root, 'net'), ebsDir: join(root, 'ebs') };
    applyAttachedDevices(attached(true, true), paths);
    expect(readlinkSync(join(paths.diskById, 'nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0'))).toBe(join(root, 'ebs', VOL));
    expect(readFileSync(join(paths.sysNet, 'ens6/address'), 'utf8').trim()).toBe(MAC);
    expect(readFileSync(join(paths.sysNet, 'ens5/address'), 'utf8').trim()).toBe('02:00:00:00:00:05');
    applyAttachedDevices(attached(false, false), paths);
    expect(existsSync(join(paths.diskById, ebsByIdName(VOL)))).toBe(false);
    expect(existsSync(join(paths.sysNet, 'ens6'))).toBe(false);
    expect(existsSync(join(paths.sysNet, 'lo/address'))).toBe(true);
    // The volume's data is the volume's, not the instance's.
    expect(existsSync(join(root, 'ebs', VOL))).toBe(true);
  });
});

describe('host tool models: exit codes as the real tools', () => {
  it('blkid, mkfs.ext4, mount, mountpoint and umount on a blank, then formatted, volume', () => {
    const n = node(shared());
    n.showDevices(attached(true, false));
    const dev = `"$DISK_BY_ID/${ebsByIdName(VOL)}"`;
    const status = (script: string) => sh(n, script).status;
    expect(status(`blkid -p -o export ${dev}`)).toBe(2);
    expect(sh(n, `wipefs -n ${dev}`)).toMatchObject({ status: 0, stdout: '' });
    expect(status(`blkid -p -o export "$DISK_BY_ID/nvme-Amazon_Elastic_Block_Store_vol0missing"`)).toBe(2);
    expect(sh(n, `wipefs -n "$DISK_BY_ID/nvme-Amazon_Elastic_Block_Store_vol0missing"`).status).toBe(1);
    expect(status(`mkdir -p "$ETCD_DATA_DIR" && mount ${dev} "$ETCD_DATA_DIR"`)).toBe(32);
    expect(status(`mkfs.ext4 -q -L etcd ${dev}`)).toBe(0);
    const exported = sh(n, `blkid -p -o export ${dev}`);
    expect(exported.status).toBe(0);
    expect(exported.stdout).toMatch(/^DEVNAME=\S+nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0\nLABEL=etcd\nUUID=[0-9a-f-]{36}\nVERSION=1\.0\nBLOCK_SIZE=4096\nTYPE=ext4\nUSAGE=filesystem\n$/);
    const uuid = sh(n, `blkid -p -o value -s UUID ${dev}`).stdout.trim();
    expect(exported.stdout).toContain(`UUID=${uuid}\n`);
    // -s filters what is printed: a tag the filesystem lacks prints nothing, and blkid -p still found one.
    expect(sh(n, `blkid -p -o value -s PARTUUID ${dev}`)).toMatchObject({ status: 0, stdout: '' });
    const signatures = sh(n, `wipefs -n ${dev}`);
    expect(signatures.status).toBe(0);
    expect(signatures.stdout.trim().split('\n')).toEqual(['DEVICE OFFSET TYPE UUID LABEL', `${ebsByIdName(VOL)} 0x438 ext4 ${uuid} etcd`]);
    expect(status(`mountpoint -q "$ETCD_DATA_DIR"`)).toBe(32);
    expect(status(`mount ${dev} "$ETCD_DATA_DIR" && echo kept >"$ETCD_DATA_DIR/generation"`)).toBe(0);
    expect(status(`mountpoint -q "$ETCD_DATA_DIR"`)).toBe(0);
    expect(status(`mount ${dev} "$ETCD_DATA_DIR"`)).toBe(32);
    expect(status(`mkfs.ext4 -q -L etcd ${dev}`)).toBe(1);
    expect(status(`umount "$ETCD_DATA_DIR"`)).toBe(0);
    expect(status(`umount "$ETCD_DATA_DIR"`)).toBe(32);
    expect(existsSync(join(n.env.ETCD_DATA_DIR!, 'generation'))).toBe(false);
    // Another instance the volume moves to sees the same filesystem.
    const other = node(n.shared, 'i-0def');
    other.showDevices(attached(true, false));
    expect(sh(other, `mkdir -p "$ETCD_DATA_DIR" && mount ${dev} "$ETCD_DATA_DIR" && cat "$ETCD_DATA_DIR/generation"`).stdout.trim()).toBe('kept');
    expect(n.file('host-calls.log')).toMatch(/^blkid -p -o export \S+ => 2$/m);
  });

  it('blkid and wipefs refuse the forms they do not model (blkid usage: exit 4)', () => {
    const n = node(shared());
    n.showDevices(attached(true, false));
    const dev = `"$DISK_BY_ID/${ebsByIdName(VOL)}"`;
    expect(sh(n, `blkid -o value -s TYPE ${dev}`)).toMatchObject({ status: 4, stderr: expect.stringContaining('are modelled') });
    expect(sh(n, `blkid ${dev}`).status).toBe(4);
    expect(sh(n, `wipefs -a ${dev}`)).toMatchObject({ status: 1, stderr: expect.stringContaining('only wipefs -n DEVICE is modelled') });
  });

  it('networkd configures the interface the .network file matches by MAC; ip, networkctl and sysctl refuse an absent link; udevadm only settles', () => {
    const n = node(shared());
    expect(sh(n, 'networkctl reconfigure ens6').status).toBe(1);
    expect(sh(n, 'sysctl -qw net.ipv4.conf.ens6.rp_filter=2').status).not.toBe(0);
    expect(sh(n, 'ip -4 address flush dev ens6').status).toBe(1);
    n.showDevices(attached(false, true));
    const run = sh(n, `mkdir -p "$NETWORKD_DIR" && printf '[Match]\\nMACAddress=${MAC}\\n[Network]\\nAddress=10.20.1.77/32\\n' >"$NETWORKD_DIR/10-etcd-slot.network" && networkctl reload && networkctl reconfigure ens6 && sysctl -qw net.ipv4.conf.ens6.rp_filter=2 && ip -4 route show default`);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('default via 10.20.1.1 dev ens5 proto dhcp src 10.20.1.5 metric 100');
    expect(n.file('addresses/ens6').trim()).toBe('10.20.1.77/32');
    expect(sh(n, 'ip -4 address flush dev ens6').status).toBe(0);
    expect(n.file('addresses/ens6')).toBe('');
    expect(sh(n, 'ip link set ens6 up').status).not.toBe(0);
    // etcd-slot.sh settles udev before it takes the interface by MAC; nothing else of udevadm is modelled.
    expect(sh(n, 'udevadm settle --timeout=30').status).toBe(0);
    expect(sh(n, 'udevadm trigger').status).toBe(1);
  });
});
