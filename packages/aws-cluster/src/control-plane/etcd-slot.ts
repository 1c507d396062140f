import { EbsVolume } from '@cdktf/provider-aws/lib/ebs-volume';
import { NetworkInterface } from '@cdktf/provider-aws/lib/network-interface';
import type { Construct } from 'constructs';

/** What gives one control-plane slot (one ASG) its lasting etcd member: data and address. */
export interface EtcdSlotProps {
  /** The slot's ASG name: the value of `slotTagKey`, by which the booting node finds both. */
  readonly asgName: string;
  readonly availabilityZone: string;
  readonly subnetId: string;
  readonly securityGroupIds: readonly string[];
  readonly kmsKeyArn: string;
  readonly volumeGiB: number;
  readonly clusterName: string;
  readonly clusterTagKey: string;
  readonly slotTagKey: string;
}

export interface EtcdSlotResources {
  readonly volumeId: string;
  readonly networkInterfaceId: string;
  readonly privateIp: string;
}

/**
 * One slot's etcd volume and member address (docs/decisions/etcd-volumes.md). Both are resources
 * of their own, never part of the launch template, so a new template leaves them as they are, and
 * `prevent_destroy` stops a plan that would delete them (the data, or the address etcd knows the
 * member by). Neither carries the cluster ownership tag: the EBS CSI controller's rights follow it.
 */
export function etcdSlot(scope: Construct, nodeId: string, props: EtcdSlotProps): EtcdSlotResources {
  const tags = { Name: `${props.asgName}-etcd`, [props.clusterTagKey]: props.clusterName, [props.slotTagKey]: props.asgName };
  const volume = new EbsVolume(scope, `etcd-volume-${nodeId}`, {
    availabilityZone: props.availabilityZone,
    size: props.volumeGiB,
    type: 'gp3',
    encrypted: true,
    kmsKeyId: props.kmsKeyArn,
    // Nothing of the volume can change in place but size: a change is a new, empty volume. Only
    // a deliberate replacement (docs/runbooks/control-plane-replacement.md) may do that.
    finalSnapshot: true,
    tags,
    lifecycle: { preventDestroy: true },
  });
  const address = new NetworkInterface(scope, `etcd-address-${nodeId}`, {
    subnetId: props.subnetId,
    securityGroups: [...props.securityGroupIds],
    description: `etcd member address of ${props.asgName}`,
    tags,
    lifecycle: { preventDestroy: true },
  });
  return { volumeId: volume.id, networkInterfaceId: address.id, privateIp: address.privateIp };
}
