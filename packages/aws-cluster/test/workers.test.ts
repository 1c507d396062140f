import { describe, expect, it } from 'vitest';
import { MachineImage, WorkerPool } from '../src';
import { bareStack, platform, synthCluster, type Attributes } from './support';

const tagsOf = (asg: Attributes) => Object.fromEntries(asg.tag.map((t: Attributes) => [t.key, t.value]));

describe('WorkerPool', () => {
  const shipped = platform();
  const production = synthCluster(shipped, 'production');
  const workers = production.values('aws_autoscaling_group').filter((g) => !g.name.includes('control-plane'));

  it('makes one ASG per pool and AZ with the per-AZ min/max of the definition', () => {
    expect(workers.map((g) => g.name).sort()).toEqual([
      'production-burst-a', 'production-burst-b', 'production-burst-c', 'production-general-a', 'production-general-b', 'production-general-c',
    ]);
    for (const g of workers) {
      const pool = shipped.cluster('production').workerPools.find((p) => g.name.startsWith(`production-${p.name}-`));
      expect(g).toMatchObject({ min_size: pool?.minPerAz, max_size: pool?.maxPerAz, capacity_rebalance: true });
      expect(g.vpc_zone_identifier).toHaveLength(1);
      expect(g.lifecycle.ignore_changes).toEqual(['desired_capacity']);
    }
  });

  it('mixes instance types with the spot share of the pool', () => {
    const burst = workers.find((g) => g.name === 'production-burst-a') as Attributes;
    const policy = burst.mixed_instances_policy;
    expect(policy.instances_distribution).toMatchObject({ on_demand_base_capacity: 0, on_demand_percentage_above_base_capacity: 30, spot_allocation_strategy: 'price-capacity-optimized' });
    expect(policy.launch_template.override).toEqual([{ instance_type: 'c7i.xlarge' }, { instance_type: 'c6i.xlarge' }]);
    const general = workers.find((g) => g.name === 'production-general-b') as Attributes;
    expect(general.mixed_instances_policy.instances_distribution.on_demand_percentage_above_base_capacity).toBe(100);
  });

  it('tags ASGs for ownership, autoscaler discovery and scale-from-zero node templates', () => {
    const burst = tagsOf(workers.find((g) => g.name === 'production-burst-b') as Attributes);
    expect(burst).toMatchObject({
      'kubernetes.io/cluster/production': 'owned',
      'k8s.io/cluster-autoscaler/enabled': 'owned',
      'k8s.io/cluster-autoscaler/production': 'owned',
      'k8s.io/cluster-autoscaler/node-template/label/node.platform.io/pool': 'burst',
      'k8s.io/cluster-autoscaler/node-template/label/topology.kubernetes.io/zone': 'ap-northeast-2b',
      'k8s.io/cluster-autoscaler/node-template/taint/node.platform.io/burst': 'true:NoSchedule',
    });
    const controlPlane = production.values('aws_autoscaling_group').filter((g) => g.name.includes('control-plane'));
    expect(controlPlane.every((g) => !('k8s.io/cluster-autoscaler/production' in tagsOf(g)))).toBe(true);
  });

  it('gives workers the worker instance profile and IMDS hop limit 1', () => {
    const templates = production.values('aws_launch_template').filter((t) => !t.name.includes('control-plane'));
    expect(templates.map((t) => t.name).sort()).toEqual(['production-burst', 'production-general']);
    for (const t of templates) {
      expect(t.iam_instance_profile.name).toContain('worker-role');
      expect(t.metadata_options.http_put_response_hop_limit).toBe(1);
      expect(t.instance_type).toBeUndefined();
    }
  });

  describe('validation', () => {
    const pool = { name: 'p', instanceTypes: ['m7i.large'], minPerAz: 1, maxPerAz: 2, spotPercentage: 0, rootVolumeGiB: 50, labels: {}, taints: [] };
    const props = {
      zones: [{ availabilityZone: 'ap-northeast-2a', subnetId: 's-1' }],
      machineImage: MachineImage.fromAmiIds({ x86_64: 'ami-0abcdef1234567890' }),
      instanceProfileName: 'p',
      securityGroupIds: ['sg'],
      cloudConfig: '#cloud-config\n',
      asgName: (az: string) => az,
      launchTemplateName: 'lt',
      nodeTags: {},
      autoscalerDiscoveryTags: [],
    };
    const build = (change: object, zones = props.zones) => () => new WorkerPool(bareStack(), 'pool', { ...props, zones, pool: { ...pool, ...change } });
    it('rejects no instance type', () => {
      expect(build({ instanceTypes: [] })).toThrow('WorkerPool: props.pool.instanceTypes = []; expected at least one instance type');
    });
    it('rejects an unknown instance type', () => {
      expect(build({ instanceTypes: ['m7i.large', 'z9.tiny'] })).toThrow('WorkerPool: props.pool.instanceTypes = ["m7i.large","z9.tiny"]; expected instance types listed in INSTANCE_TYPES (z9.tiny is not)');
    });
    it('rejects mixed architectures', () => {
      expect(build({ instanceTypes: ['m7i.large', 'm7g.large'] })).toThrow('WorkerPool: props.pool.instanceTypes = ["m7i.large","m7g.large"]; expected one CPU architecture (one image per launch template)');
    });
    it('rejects min above max', () => {
      expect(build({ minPerAz: 3 })).toThrow('WorkerPool: props.pool.minPerAz = 3; expected at most pool.maxPerAz (2)');
    });
    it('rejects a spot share above 100', () => {
      expect(build({ spotPercentage: 120 })).toThrow('WorkerPool: props.pool.spotPercentage = 120; expected a percentage from 0 to 100');
    });
    it('rejects no AZ', () => {
      expect(build({}, [])).toThrow('WorkerPool: props.zones = []; expected at least one AZ');
    });
  });
});
