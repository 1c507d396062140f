import { KUBERNETES_PORTS } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { ControlPlane, MachineImage } from '../src';
import { bareStack, clusterInput, platform, synthCluster, type Attributes, type Synth } from './support';

function asgZones(synth: Synth, filter: (asg: Attributes) => boolean) {
  return synth.values('aws_autoscaling_group').filter(filter).map((asg) => synth.deref(asg.vpc_zone_identifier[0]).availability_zone);
}
const isControlPlane = (asg: Attributes) => asg.name.includes('control-plane');

describe('ControlPlane', () => {
  const shipped = platform();
  const production = synthCluster(shipped, 'production');

  it('runs one ASG (min = max = 1) per node, one per distinct AZ, all behind both API target groups (public and internal)', () => {
    const groups = production.values('aws_autoscaling_group').filter(isControlPlane);
    expect(groups.map((g) => g.name).sort()).toEqual(['production-control-plane-a', 'production-control-plane-b', 'production-control-plane-c']);
    expect(groups.every((g) => g.min_size === 1 && g.max_size === 1 && g.desired_capacity === 1 && g.health_check_type === 'EC2')).toBe(true);
    expect(new Set(asgZones(production, isControlPlane))).toEqual(new Set(shipped.cluster('production').availabilityZones));
    const apiGroups = production.resources('aws_lb_target_group').filter(([, tg]) => tg.port === KUBERNETES_PORTS.apiServer).map(([id]) => `\${aws_lb_target_group.${id}.arn}`);
    expect(apiGroups).toHaveLength(2);
    expect(groups.every((g) => [...g.target_group_arns].sort().join() === [...apiGroups].sort().join())).toBe(true);
    expect(groups.every((g) => g.tag.some((t: Attributes) => t.key === 'kubernetes.io/cluster/production' && t.value === 'owned' && t.propagate_at_launch))).toBe(true);
  });

  it('spreads 5 nodes over 3 AZs with at most 2 per AZ (3 → 5 nodes)', () => {
    const five = synthCluster(platform((input) => { clusterInput(input, 'production').controlPlane.count = 5; }), 'production');
    const zones = asgZones(five, isControlPlane);
    expect(zones).toHaveLength(5);
    expect(Math.max(...['a', 'b', 'c'].map((s) => zones.filter((z) => z.endsWith(s)).length))).toBe(2);
    expect(five.values('aws_autoscaling_group').filter(isControlPlane).map((g) => g.name).sort()).toEqual([
      'production-control-plane-a', 'production-control-plane-a2', 'production-control-plane-b', 'production-control-plane-b2', 'production-control-plane-c',
    ]);
  });

  it('gives every launch template IMDSv2 (hop limit 1), an encrypted gp3 root, no SSH key, an instance profile and gzipped user-data', () => {
    const templates = production.values('aws_launch_template');
    expect(templates).toHaveLength(5); // 3 control plane + 2 worker pools
    for (const t of templates) {
      expect(t.metadata_options).toMatchObject({ http_tokens: 'required', http_put_response_hop_limit: 1, http_endpoint: 'enabled' });
      expect(t.block_device_mappings).toEqual([expect.objectContaining({ ebs: expect.objectContaining({ encrypted: 'true', volume_type: 'gp3' }) })]);
      expect(t.key_name).toBeUndefined();
      expect(t.iam_instance_profile.name).toMatch(/^\$\{aws_iam_instance_profile\./);
      expect(t.user_data).toMatch(/^\$\{base64gzip\(/);
      expect(t.image_id).toBe(shipped.imageOf('production', 'x86_64').imageId);
    }
    const cp = templates.filter((t) => t.name.includes('control-plane'));
    expect(cp.every((t) => t.instance_type === 'm7i.large' && t.block_device_mappings[0].ebs.volume_size === 80)).toBe(true);
    expect(cp.every((t) => t.iam_instance_profile.name.includes('control-plane-role'))).toBe(true);
  });

  it('leaves rolls to pipeline roll-control-plane: no control-plane ASG carries an instance_refresh (Terraform would start all at once)', () => {
    const groups = production.values('aws_autoscaling_group').filter(isControlPlane);
    expect(groups).toHaveLength(3);
    for (const g of groups) {
      expect(g.instance_refresh, g.name).toBeUndefined();
      // The group launches its template's latest version, so a changed template shows as instances on an older version.
      expect(g.launch_template.version).toMatch(/^\$\{aws_launch_template\.[^.]+\.latest_version\}$/);
    }
  });

  it('passes the API endpoint token to the bootstrap user-data', () => {
    const [template] = production.values('aws_launch_template').filter((t) => t.name.includes('control-plane'));
    expect(template.user_data).toContain('aws_lb.');
  });

  describe('etcd slots (docs/decisions/etcd-volumes.md)', () => {
    const names = shipped.namesOf('production');
    const groups = production.values('aws_autoscaling_group').filter(isControlPlane);
    const volumes = production.resources('aws_ebs_volume');
    const enis = production.resources('aws_network_interface');
    const slotOf = (tags: Attributes) => tags[names.etcdSlot.slotTagKey];

    it('gives every control-plane ASG exactly one encrypted gp3 volume under the cluster key, in its AZ, protected from destroy', () => {
      expect(volumes.map(([, v]) => slotOf(v.tags)).sort()).toEqual(groups.map((g) => g.name).sort());
      const key = production.resources('aws_kms_key').find(([id]) => id.startsWith('kms_key'))?.[0];
      for (const [id, v] of volumes) {
        const asg = groups.find((g) => g.name === slotOf(v.tags)) as Attributes;
        expect(v.availability_zone, id).toBe(production.deref(asg.vpc_zone_identifier[0]).availability_zone);
        expect(v).toMatchObject({ type: 'gp3', encrypted: true, size: 20, kms_key_id: `\${aws_kms_key.${key}.arn}`, final_snapshot: true, lifecycle: { prevent_destroy: true } });
        expect(v.tags[names.etcdSlot.clusterTagKey]).toBe('production');
      }
    });

    it('tags neither volume nor address with the cluster ownership tag the EBS CSI controller may delete by', () => {
      for (const [, r] of [...volumes, ...enis]) {
        expect(Object.keys(r.tags)).not.toContain(names.clusterTagKey);
        expect(Object.keys(r.tags).some((k) => k.startsWith('ebs.csi.aws.com') || k.startsWith('kubernetes.io/'))).toBe(false);
      }
    });

    it('gives every slot a persistent address (ENI) in its ASG\'s subnet with the control-plane security group, protected from destroy', () => {
      expect(enis.map(([, e]) => slotOf(e.tags)).sort()).toEqual(groups.map((g) => g.name).sort());
      for (const [, e] of enis) {
        const asg = groups.find((g) => g.name === slotOf(e.tags)) as Attributes;
        expect(e.subnet_id).toBe(asg.vpc_zone_identifier[0]);
        expect(e.security_groups).toEqual(production.values('aws_launch_template').find((t) => t.name === asg.name)?.vpc_security_group_ids);
        expect(e.lifecycle).toEqual({ prevent_destroy: true });
      }
    });

    it('keeps volume and address outside the launch template: a new template cannot replace them (stable construct ids)', () => {
      expect(volumes.map(([id]) => id).sort()).toEqual(expect.arrayContaining([expect.stringMatching(/^control-plane_etcd-volume-a_/), expect.stringMatching(/^control-plane_etcd-volume-b_/), expect.stringMatching(/^control-plane_etcd-volume-c_/)]));
      expect(enis.map(([id]) => id)).toEqual(expect.arrayContaining([expect.stringMatching(/^control-plane_etcd-address-a_/)]));
      const changed = synthCluster(platform(), 'production', { machineImage: MachineImage.fromAmiIds({ x86_64: 'ami-0fedcba9876543210' }) });
      expect(changed.resources('aws_ebs_volume')).toEqual(volumes);
      expect(changed.resources('aws_network_interface')).toEqual(enis);
      for (const [, v] of volumes) expect(JSON.stringify(v)).not.toContain('aws_launch_template');
    });
  });

  describe('validation', () => {
    const props = {
      count: 3,
      zones: [{ availabilityZone: 'ap-northeast-2a', subnetId: 's-1' }],
      instanceType: 'm7i.large',
      rootVolumeGiB: 50,
      machineImage: MachineImage.fromAmiIds({ x86_64: 'ami-0abcdef1234567890' }),
      instanceProfileName: 'p',
      securityGroupIds: ['sg-1'],
      targetGroupArns: ['tg'],
      cloudConfig: '#cloud-config\n',
      asgName: (az: string, i: number) => `cp-${az}-${i}`,
      launchTemplateName: (az: string, i: number) => `cp-${az}-${i}`,
      nodeTags: {},
      etcd: { kmsKeyArn: 'arn:aws:kms:ap-northeast-2:111122223333:key/k', clusterName: 'c', clusterTagKey: 'o/etcd-cluster', slotTagKey: 'o/etcd-slot' },
    };
    const build = (change: object) => () => new ControlPlane(bareStack(), 'cp', { ...props, ...change });
    it('rejects an even count', () => {
      expect(build({ count: 4 })).toThrow('ControlPlane: props.count = 4; expected an odd number of at least 3 (etcd keeps quorum through one lost node)');
    });
    it('rejects a single node', () => {
      expect(build({ count: 1 })).toThrow('ControlPlane: props.count = 1; expected an odd number of at least 3 (etcd keeps quorum through one lost node)');
    });
    it('rejects no AZ', () => {
      expect(build({ zones: [] })).toThrow('ControlPlane: props.zones = []; expected at least one AZ');
    });
    it('rejects an etcd volume too small for etcd\'s backend', () => {
      expect(build({ etcd: { ...props.etcd, volumeGiB: 4 } })).toThrow('ControlPlane: props.etcd.volumeGiB = 4; expected a whole number of GiB from 8 to 1000');
    });
    it('rejects an unknown instance type', () => {
      expect(build({ instanceType: 'x1.huge' })).toThrow('ControlPlane: props.instanceType = "x1.huge"; expected an instance type listed in INSTANCE_TYPES (platform-config)');
    });
  });
});
