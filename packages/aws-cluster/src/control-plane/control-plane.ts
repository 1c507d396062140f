import { AutoscalingGroup } from '@cdktf/provider-aws/lib/autoscaling-group';
import { azSuffix, INSTANCE_TYPES } from '@platform/platform-config';
import { Token } from 'cdktf';
import { Construct } from 'constructs';
import type { MachineImage } from '../compute/machine-image';
import type { NodeZone } from '../compute/node-zone';
import { asgTags } from '../private/asg-tags';
import { nodeLaunchTemplate } from '../private/node-launch-template';
import { invalidProp } from '../private/validation';
import { etcdSlot } from './etcd-slot';

export interface ControlPlaneProps {
  /** Odd, at least 3: etcd keeps quorum through the loss of one node. */
  readonly count: number;
  /** Nodes go round-robin over these AZs, in order. */
  readonly zones: readonly NodeZone[];
  readonly instanceType: string;
  readonly rootVolumeGiB: number;
  readonly machineImage: MachineImage;
  readonly instanceProfileName: string;
  readonly securityGroupIds: readonly string[];
  /** The API target group(s) each node registers with. */
  readonly targetGroupArns: readonly string[];
  /** Rendered `#cloud-config` (packages/node-bootstrap). */
  readonly cloudConfig: string;
  readonly asgName: (availabilityZone: string, ordinal: number) => string;
  readonly launchTemplateName: (availabilityZone: string, ordinal: number) => string;
  /** Tags every node carries (cluster ownership tag at least). */
  readonly nodeTags: Readonly<Record<string, string>>;
  /**
   * Each node's lasting etcd member (docs/decisions/etcd-volumes.md): a gp3 volume under the
   * cluster key and an address (ENI) per ASG, found by the node through `slotTagKey` = its ASG name.
   */
  readonly etcd: {
    readonly kmsKeyArn: string;
    readonly clusterName: string;
    readonly clusterTagKey: string;
    readonly slotTagKey: string;
    /** @default 20 */
    readonly volumeGiB?: number;
  };
  /** Seconds after launch before EC2 health checks count. @default 300 */
  readonly healthCheckGracePeriodSeconds?: number;
}

export interface ControlPlaneNode {
  readonly availabilityZone: string;
  readonly asgName: string;
  readonly etcdVolumeId: string;
  /** The etcd member's address (peer and client URLs), the same for every node of this ASG. */
  readonly etcdAddress: string;
}

/**
 * Control-plane nodes, each in its own ASG (min = max = 1) pinned to one AZ, so EC2
 * replaces a lost node in the same AZ and etcd membership stays spread. EC2 (not ELB)
 * health decides replacement: an API server that is briefly not ready must not cost a
 * node and an etcd member.
 */
export class ControlPlane extends Construct {
  readonly nodes: readonly ControlPlaneNode[];

  constructor(scope: Construct, id: string, props: ControlPlaneProps) {
    super(scope, id);
    if (!Number.isInteger(props.count) || props.count < 3 || props.count % 2 === 0) {
      throw invalidProp('ControlPlane', 'count', props.count, 'an odd number of at least 3 (etcd keeps quorum through one lost node)');
    }
    if (props.zones.length === 0) throw invalidProp('ControlPlane', 'zones', props.zones, 'at least one AZ');
    const info = INSTANCE_TYPES[props.instanceType];
    if (!info) throw invalidProp('ControlPlane', 'instanceType', props.instanceType, 'an instance type listed in INSTANCE_TYPES (platform-config)');
    const etcdVolumeGiB = props.etcd.volumeGiB ?? 20;
    // etcd's default quota is 2 GiB and its backend 8 GiB at most: 8 GiB leaves room for compaction.
    if (!Number.isInteger(etcdVolumeGiB) || etcdVolumeGiB < 8 || etcdVolumeGiB > 1000) throw invalidProp('ControlPlane', 'etcd.volumeGiB', etcdVolumeGiB, 'a whole number of GiB from 8 to 1000');

    const nodes: ControlPlaneNode[] = [];
    for (let i = 0; i < props.count; i++) {
      const zone = props.zones[i % props.zones.length];
      const ordinal = Math.floor(i / props.zones.length);
      const az = zone.availabilityZone;
      const nodeId = `${azSuffix(az)}${ordinal > 0 ? ordinal + 1 : ''}`;
      const asgName = props.asgName(az, ordinal);
      const template = nodeLaunchTemplate(this, `launch-template-${nodeId}`, {
        name: props.launchTemplateName(az, ordinal),
        imageId: props.machineImage.imageId(info.architecture),
        rootDeviceName: props.machineImage.rootDeviceName,
        instanceType: props.instanceType,
        rootVolumeGiB: props.rootVolumeGiB,
        instanceProfileName: props.instanceProfileName,
        securityGroupIds: props.securityGroupIds,
        cloudConfig: props.cloudConfig,
        tags: { ...props.nodeTags, Name: asgName },
      });
      new AutoscalingGroup(this, `asg-${nodeId}`, {
        name: asgName,
        minSize: 1,
        maxSize: 1,
        desiredCapacity: 1,
        vpcZoneIdentifier: [zone.subnetId],
        targetGroupArns: [...props.targetGroupArns],
        healthCheckType: 'EC2',
        healthCheckGracePeriod: props.healthCheckGracePeriodSeconds ?? 300,
        launchTemplate: { id: template.id, version: Token.asString(template.latestVersion) },
        tag: asgTags({ ...props.nodeTags, Name: asgName }, true),
      });
      const slot = etcdSlot(this, nodeId, {
        asgName,
        availabilityZone: az,
        subnetId: zone.subnetId,
        securityGroupIds: props.securityGroupIds,
        kmsKeyArn: props.etcd.kmsKeyArn,
        volumeGiB: etcdVolumeGiB,
        clusterName: props.etcd.clusterName,
        clusterTagKey: props.etcd.clusterTagKey,
        slotTagKey: props.etcd.slotTagKey,
      });
      nodes.push({ availabilityZone: az, asgName, etcdVolumeId: slot.volumeId, etcdAddress: slot.privateIp });
    }
    this.nodes = nodes;
  }
}
