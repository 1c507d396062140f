import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What a Nitro instance's kernel shows of the EBS volumes and ENIs EC2 attached to it, from
 * moto's `describe-instances`: each attached volume as an NVMe disk whose serial is the volume id
 * (`<DISK_BY_ID>/nvme-Amazon_Elastic_Block_Store_vol<id without the dash>`, a symlink to the
 * volume's block device, here a file shared by every instance of the stack, so a volume moved to
 * another instance shows the same filesystem there), each attached ENI as an interface named by
 * its PCI slot (`ens5` for device index 0, `ens6` for 1) whose `<SYS_NET>/<dev>/address` is the
 * MAC EC2 gave the ENI. A detached volume or ENI disappears. Nothing here is a script's to write.
 */
export interface AttachedDevices {
  readonly BlockDeviceMappings?: readonly { DeviceName: string; Ebs?: { VolumeId: string; Status: string } }[];
  readonly NetworkInterfaces?: readonly { MacAddress: string; Attachment?: { DeviceIndex: number; Status: string } }[];
}

/** The NVMe by-id name Nitro gives an EBS volume (the serial is the volume id without its dash). */
export const ebsByIdName = (volumeId: string): string => `nvme-Amazon_Elastic_Block_Store_${volumeId.replace(/-/g, '')}`;

/** The interface name of an ENI at a device index on a Nitro instance (PCI slot 5 onwards). */
export const nitroInterface = (deviceIndex: number): string => `ens${5 + deviceIndex}`;

/** Makes `diskById` and `sysNet` show exactly what EC2 says is attached; volume images live in `ebsDir`. */
export function applyAttachedDevices(instance: AttachedDevices, paths: { readonly diskById: string; readonly sysNet: string; readonly ebsDir: string }): void {
  mkdirSync(paths.diskById, { recursive: true });
  mkdirSync(paths.sysNet, { recursive: true });
  mkdirSync(paths.ebsDir, { recursive: true });
  const disks = new Map<string, string>();
  for (const mapping of instance.BlockDeviceMappings ?? []) {
    if (mapping.Ebs?.Status !== 'attached') continue;
    const image = join(paths.ebsDir, mapping.Ebs.VolumeId);
    // A new EBS volume is blank: no filesystem until one is made.
    if (!existsSync(image)) writeFileSync(image, '');
    disks.set(ebsByIdName(mapping.Ebs.VolumeId), image);
  }
  for (const name of readdirSync(paths.diskById)) if (!disks.has(name)) rmSync(join(paths.diskById, name), { force: true });
  for (const [name, image] of disks) {
    const link = join(paths.diskById, name);
    if (!isLink(link)) symlinkSync(image, link);
  }
  const links = new Map<string, string>();
  for (const nic of instance.NetworkInterfaces ?? []) {
    if (nic.Attachment?.Status === 'attached') links.set(nitroInterface(nic.Attachment.DeviceIndex), nic.MacAddress);
  }
  // The loopback device is the kernel's own, never EC2's.
  links.set('lo', '00:00:00:00:00:00');
  for (const dev of readdirSync(paths.sysNet)) if (!links.has(dev)) rmSync(join(paths.sysNet, dev), { recursive: true, force: true });
  for (const [dev, mac] of links) {
    const file = join(paths.sysNet, dev, 'address');
    if (existsSync(file) && readFileSync(file, 'utf8').trim() === mac) continue;
    mkdirSync(join(paths.sysNet, dev), { recursive: true });
    writeFileSync(file, `${mac}\n`);
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * The host tools etcd-slot.sh calls, as models of what the real ones do to the devices above and
 * with their exit codes; each call is appended to `$E2E_NODE/host-calls.log` (`<tool> <args> => <exit>`).
 * A volume image holds `TYPE=`/`UUID=`/`LABEL=` lines once formatted (empty: no filesystem), its
 * files live in `<image>.fs/`; a mount makes the directory a link to them (what was there stays
 * beneath, as under a real mount) and is listed in `$E2E_NODE/mounts`. networkd applies the first
 * `.network` file (by name) whose `MACAddress=` matches the link, as systemd-networkd does; the
 * addresses it gave each link are in `$E2E_NODE/addresses/<dev>`. Any other form fails loudly.
 */
export const HOST_STUBS: Readonly<Record<string, string>> = {
  blkid: `# blkid -p -o value -s TAG DEVICE, blkid -p -o export DEVICE (util-linux 2.38). -p probes the
# device itself (blkid's cache mode, without -p, is not modelled); -o export prints DEVNAME= then one
# KEY=VALUE line per probed value; -s filters what is printed, not what is found (no such tag: exit 0).
# Exit 2 when nothing is found or the device does not open (silently, as blkid -p), 4 on usage.
local format='' tag='' image
case "$#:\${1:-}:\${2:-}:\${3:-}:\${4:-}" in
  4:-p:-o:export:*) format=export ;;
  6:-p:-o:value:-s) format=value tag=$5 ;;
esac
[[ -n $format ]] || { echo "blkid: only -p -o value -s TAG DEVICE and -p -o export DEVICE are modelled: $*" >&2; return 4; }
image=$(readlink -f -- "\${*: -1}") && [[ -f $image ]] || return 2
grep -q '^TYPE=' "$image" || return 2
if [[ $format == export ]]; then
  echo "DEVNAME=\${*: -1}"
  grep '^LABEL=.' "$image"
  grep '^UUID=' "$image"
  ! grep -qx 'TYPE=ext4' "$image" || echo 'VERSION=1.0'
  echo 'BLOCK_SIZE=4096'
  grep '^TYPE=' "$image"
  echo 'USAGE=filesystem'
  return 0
fi
sed -n "s/^$tag=//p" "$image"`,
  wipefs: `# wipefs -n DEVICE (util-linux 2.38): lists every signature and writes nothing; a table (a header,
# then one row per signature) or nothing at all on a blank device; exit 1 when the device does not open.
[[ $# == 2 && $1 == -n ]] || { echo "wipefs: only wipefs -n DEVICE is modelled: $*" >&2; return 1; }
local image type
image=$(readlink -f -- "$2") && [[ -f $image ]] || { echo "wipefs: error: $2: probing initialization failed: No such file or directory" >&2; return 1; }
type=$(sed -n 's/^TYPE=//p' "$image")
[[ -n $type ]] || return 0
# ext4's magic sits at 0x438 (superblock at 1024, s_magic at 56).
[[ $type == ext4 ]] || { echo "wipefs: the offset of a $type signature is not modelled" >&2; return 1; }
echo 'DEVICE OFFSET TYPE UUID LABEL'
echo "$(basename -- "$2") 0x438 ext4 $(sed -n 's/^UUID=//p' "$image") $(sed -n 's/^LABEL=//p' "$image")"`,
  'mkfs.ext4': `# mkfs.ext4 [-q] [-L LABEL] DEVICE: a new, empty filesystem; whatever was on the device is gone.
local label='' image
while [[ $1 == -* ]]; do case $1 in -q) shift ;; -L) label=$2; shift 2 ;; *) echo "mkfs.ext4: $1 is not modelled" >&2; return 1 ;; esac; done
image=$(readlink -f -- "$1") && [[ -f $image ]] || { echo "mkfs.ext4: No such file or directory while trying to determine filesystem size" >&2; return 1; }
! grep -q "^$image " "$E2E_NODE/mounts" 2>/dev/null || { echo "$1 is mounted; will not make a filesystem here!" >&2; return 1; }
printf 'TYPE=ext4\\nUUID=%s\\nLABEL=%s\\n' "$(cat /proc/sys/kernel/random/uuid)" "$label" >"$image"
rm -rf "$image.fs" && mkdir -p "$image.fs/lost+found"`,
  mount: `# mount DEVICE DIR
[[ $# == 2 ]] || { echo "mount: only mount DEVICE DIR is modelled: $*" >&2; return 1; }
local image
image=$(readlink -f -- "$1") && [[ -f $image ]] || { echo "mount: $2: special device $1 does not exist." >&2; return 32; }
grep -q '^TYPE=' "$image" || { echo "mount: $2: wrong fs type, bad option, bad superblock on $1, missing codepage or helper program, or other error." >&2; return 32; }
if grep -q " $2\\$" "$E2E_NODE/mounts" 2>/dev/null; then echo "mount: $2: $1 already mounted on $2." >&2; return 32; fi
[[ -d $2 ]] || { echo "mount: $2: mount point does not exist." >&2; return 32; }
mv "$2" "$2.beneath-mount" && ln -s "$image.fs" "$2" && echo "$image $2" >>"$E2E_NODE/mounts"`,
  umount: `# umount DIR
grep -q " $1\\$" "$E2E_NODE/mounts" 2>/dev/null || { echo "umount: $1: not mounted." >&2; return 32; }
rm "$1" && mv "$1.beneath-mount" "$1" && grep -v " $1\\$" "$E2E_NODE/mounts" >"$E2E_NODE/mounts.new"; mv "$E2E_NODE/mounts.new" "$E2E_NODE/mounts"`,
  mountpoint: `# mountpoint -q DIR: 0 when DIR is a mount point, 32 when not (util-linux)
grep -q " \${*: -1}\\$" "$E2E_NODE/mounts" 2>/dev/null || return 32`,
  ip: `case "$*" in
  '-4 route show default') echo "default via $E2E_GATEWAY dev ens5 proto dhcp src $E2E_IP metric 100" ;;
  '-4 address flush dev '*)
    [[ -d $SYS_NET/$5 ]] || { echo "Device \\"$5\\" does not exist." >&2; return 1; }
    rm -f "$E2E_NODE/addresses/$5" ;;
  *) echo "ip: $* is not modelled" >&2; return 1 ;;
esac`,
  networkctl: `case "$1" in
  reload) ;;
  reconfigure)
    [[ -d $SYS_NET/$2 ]] || { echo "Failed to resolve interface \\"$2\\": No such device" >&2; return 1; }
    local mac file
    mac=$(<"$SYS_NET/$2/address")
    mkdir -p "$E2E_NODE/addresses"
    rm -f "$E2E_NODE/addresses/$2"
    # networkd configures a link from the first .network file, by name, that matches it.
    for file in "$NETWORKD_DIR"/*.network; do
      [[ -f $file ]] && grep -qix "MACAddress=$mac" "$file" || continue
      sed -n 's/^Address=//p' "$file" >"$E2E_NODE/addresses/$2"
      break
    done ;;
  *) echo "networkctl: $* is not modelled" >&2; return 1 ;;
esac`,
  sysctl: `# sysctl -qw net.ipv4.conf.DEV.KEY=VALUE: only for a link that exists
[[ $1 == -qw && $2 =~ ^net\\.ipv4\\.conf\\.([^.]+)\\.[a-z_]+=.+$ ]] || { echo "sysctl: $* is not modelled" >&2; return 1; }
[[ -d $SYS_NET/\${BASH_REMATCH[1]} ]] || { echo "sysctl: cannot stat /proc/sys/net/ipv4/conf/\${BASH_REMATCH[1]}: No such file or directory" >&2; return 255; }`,
  udevadm: `# udevadm settle [--timeout=N]: the watcher writes a device whole, with its final name, so no event is ever queued.
[[ $1 == settle && ($# == 1 || ($# == 2 && $2 =~ ^--timeout=[0-9]+$)) ]] || { echo "udevadm: $* is not modelled" >&2; return 1; }`,
};

/** The file a host stub is: its model as a function, the call and its exit code recorded. */
export function hostStubScript(name: string, body: string): string {
  return `#!/usr/bin/env bash\nset -uo pipefail\nmodel() {\n${body}\n}\nmodel "$@"\nstatus=$?\necho "${name} $* => $status" >>"$E2E_NODE/host-calls.log"\nexit "$status"\n`;
}

/** A node whose kernel follows EC2's attachments (EmulatedNode). */
export interface DeviceHost {
  readonly identity: { readonly instanceId: string };
  showDevices(instance: AttachedDevices): void;
}

/**
 * The hypervisor side of attach and detach: every `intervalMs` one `describe-instances` of the
 * watched nodes (real AWS CLI against moto), and each node's devices made to match it. A device
 * therefore appears some time after EC2 says `attached`, as on an instance: the scripts wait for it.
 */
export class AttachmentWatcher {
  private readonly hosts = new Map<string, DeviceHost>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  readonly errors: string[] = [];

  constructor(
    private readonly describe: (instanceIds: string[]) => Promise<{ Reservations: { Instances: (AttachedDevices & { InstanceId: string })[] }[] }>,
    private readonly intervalMs = 1000,
  ) {}

  watch(host: DeviceHost): void {
    this.hosts.set(host.identity.instanceId, host);
  }

  /** A terminated instance shows nothing any more. */
  forget(instanceId: string): void {
    this.hosts.delete(instanceId);
  }

  /** One sync now (after one already running). */
  async once(): Promise<void> {
    while (this.running) await this.running;
    this.running = this.sync().finally(() => (this.running = undefined));
    await this.running;
  }

  start(): this {
    const tick = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.once().then(tick), this.intervalMs);
    };
    tick();
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private async sync(): Promise<void> {
    const ids = [...this.hosts.keys()];
    if (ids.length === 0) return;
    try {
      const described = await this.describe(ids);
      for (const instance of described.Reservations.flatMap((r) => r.Instances)) this.hosts.get(instance.InstanceId)?.showDevices(instance);
    } catch (error) {
      this.errors.push((error as Error).message.split('\n')[0]);
    }
  }
}
