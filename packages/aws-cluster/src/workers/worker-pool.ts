import { AutoscalingGroup } from '@cdktf/provider-aws/lib/autoscaling-group';
import { azSuffix, INSTANCE_TYPES, type WorkerPool as WorkerPoolDefinition } from '@platform/platform-config';
import { Token } from 'cdktf';
import { Construct } from 'constructs';
import type { MachineImage } from '../compute/machine-image';
import type { NodeZone } from '../compute/node-zone';
import { asgTags } from '../private/asg-tags';
import { nodeLaunchTemplate } from '../private/node-launch-template';
import { invalidProp } from '../private/validation';

const NODE_TEMPLATE = 'k8s.io/cluster-autoscaler/node-template';

export interface WorkerPoolProps {
  /** The pool as platform-config defines it (types, min/max per AZ, spot share, labels, taints). */
  readonly pool: WorkerPoolDefinition;
  readonly zones: readonly NodeZone[];
  readonly machineImage: MachineImage;
  readonly instanceProfileName: string;
  readonly securityGroupIds: readonly string[];
  /** Rendered `#cloud-config` (packages/node-bootstrap). */
  readonly cloudConfig: string;
  readonly asgName: (availabilityZone: string) => string;
  readonly launchTemplateName: string;
  /** Tags every node carries (cluster ownership tag at least). */
  readonly nodeTags: Readonly<Record<string, string>>;
  /** Tags cluster-autoscaler discovers ASGs by (value `owned`). */
  readonly autoscalerDiscoveryTags: readonly string[];
  /**
   * Load balancer target groups every ASG of the pool registers its nodes with (the ingress
   * NLB's). The ASGs keep EC2 health checks: a failing ingress check must not recycle nodes.
   * @default [] (none)
   */
  readonly targetGroupArns?: readonly string[];
}

export interface WorkerGroup {
  readonly availabilityZone: string;
  readonly asgName: string;
  readonly minSize: number;
  readonly maxSize: number;
}

/**
 * A worker pool: one launch template, one ASG per AZ so cluster-autoscaler balances zones
 * and scales each from zero (node-template tags tell it the labels, taints and zone of a
 * node it has not seen yet). Spot capacity is rebalanced before interruption.
 */
export class WorkerPool extends Construct {
  readonly groups: readonly WorkerGroup[];

  constructor(scope: Construct, id: string, props: WorkerPoolProps) {
    super(scope, id);
    const { pool } = props;
    if (pool.instanceTypes.length === 0) throw invalidProp('WorkerPool', 'pool.instanceTypes', pool.instanceTypes, 'at least one instance type');
    const unknown = pool.instanceTypes.find((t) => !INSTANCE_TYPES[t]);
    if (unknown) throw invalidProp('WorkerPool', 'pool.instanceTypes', pool.instanceTypes, `instance types listed in INSTANCE_TYPES (${unknown} is not)`);
    const architectures = new Set(pool.instanceTypes.map((t) => INSTANCE_TYPES[t].architecture));
    if (architectures.size > 1) throw invalidProp('WorkerPool', 'pool.instanceTypes', pool.instanceTypes, 'one CPU architecture (one image per launch template)');
    if (pool.minPerAz > pool.maxPerAz) throw invalidProp('WorkerPool', 'pool.minPerAz', pool.minPerAz, `at most pool.maxPerAz (${pool.maxPerAz})`);
    if (pool.spotPercentage < 0 || pool.spotPercentage > 100) throw invalidProp('WorkerPool', 'pool.spotPercentage', pool.spotPercentage, 'a percentage from 0 to 100');
    if (props.zones.length === 0) throw invalidProp('WorkerPool', 'zones', props.zones, 'at least one AZ');

    const architecture = INSTANCE_TYPES[pool.instanceTypes[0]].architecture;
    const template = nodeLaunchTemplate(this, 'launch-template', {
      name: props.launchTemplateName,
      imageId: props.machineImage.imageId(architecture),
      rootDeviceName: props.machineImage.rootDeviceName,
      rootVolumeGiB: pool.rootVolumeGiB,
      instanceProfileName: props.instanceProfileName,
      securityGroupIds: props.securityGroupIds,
      cloudConfig: props.cloudConfig,
      tags: { ...props.nodeTags, Name: props.launchTemplateName },
    });

    const templateTags: Record<string, string> = {};
    for (const [key, value] of Object.entries(pool.labels)) templateTags[`${NODE_TEMPLATE}/label/${key}`] = value;
    for (const taint of pool.taints) templateTags[`${NODE_TEMPLATE}/taint/${taint.key}`] = `${taint.value}:${taint.effect}`;

    this.groups = props.zones.map((zone) => {
      const asgName = props.asgName(zone.availabilityZone);
      // Only ownership and Name reach the instances; discovery and node-template tags describe the group.
      const tags = [
        ...asgTags({ ...props.nodeTags, Name: asgName }, true),
        ...asgTags(
          {
            ...Object.fromEntries(props.autoscalerDiscoveryTags.map((key) => [key, 'owned'])),
            ...templateTags,
            [`${NODE_TEMPLATE}/label/topology.kubernetes.io/zone`]: zone.availabilityZone,
          },
          false,
        ),
      ];
      new AutoscalingGroup(this, `asg-${azSuffix(zone.availabilityZone)}`, {
        name: asgName,
        minSize: pool.minPerAz,
        maxSize: pool.maxPerAz,
        vpcZoneIdentifier: [zone.subnetId],
        targetGroupArns: props.targetGroupArns?.length ? [...props.targetGroupArns] : undefined,
        capacityRebalance: true,
        healthCheckType: 'EC2',
        healthCheckGracePeriod: 300,
        mixedInstancesPolicy: {
          instancesDistribution: {
            onDemandBaseCapacity: 0,
            onDemandPercentageAboveBaseCapacity: 100 - pool.spotPercentage,
            spotAllocationStrategy: 'price-capacity-optimized',
          },
          launchTemplate: {
            launchTemplateSpecification: { launchTemplateId: template.id, version: Token.asString(template.latestVersion) },
            override: pool.instanceTypes.map((instanceType) => ({ instanceType })),
          },
        },
        tag: tags,
        // cluster-autoscaler owns the desired size between min and max.
        lifecycle: { ignoreChanges: ['desired_capacity'] },
      });
      return { availabilityZone: zone.availabilityZone, asgName, minSize: pool.minPerAz, maxSize: pool.maxPerAz };
    });
  }
}
