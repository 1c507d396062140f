import { AMI_ID_PATTERN, INSTANCE_TYPES, type Architecture } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { MachineImage } from '../src';
import { platform, synthCluster, type Attributes } from './support';

describe('node images from the AMI lock', () => {
  const shipped = platform();

  it.each(shipped.clusters.map((c) => c.name))('%s: every launch template boots the concrete ami- the lock pins for its region and architecture, never resolve:ssm', (name) => {
    const synth = synthCluster(shipped, name);
    const templates = synth.resources('aws_launch_template');
    expect(templates.length).toBeGreaterThan(0);
    const asgs = synth.values('aws_autoscaling_group');
    for (const [id, template] of templates) {
      expect(template.image_id, id).toMatch(AMI_ID_PATTERN);
      // The architecture comes from what the template really launches: its own type, or the types its ASGs override with.
      const reference = `\${aws_launch_template.${id}.id}`;
      const types = new Set<string>(template.instance_type ? [template.instance_type] : []);
      for (const asg of asgs as Attributes[]) {
        const spec = asg.launch_template ?? asg.mixed_instances_policy?.launch_template?.launch_template_specification;
        if (spec?.launch_template_id !== reference && spec?.id !== reference) continue;
        for (const o of asg.mixed_instances_policy?.launch_template?.override ?? []) types.add(o.instance_type);
      }
      expect(types.size, id).toBeGreaterThan(0);
      const architectures = new Set([...types].map((t) => INSTANCE_TYPES[t]!.architecture as Architecture));
      expect(architectures.size, id).toBe(1);
      expect(template.image_id, id).toBe(shipped.imageOf(name, [...architectures][0]!).imageId);
    }
    expect(JSON.stringify(synth.json)).not.toContain('resolve:ssm');
  });

  it('follows the lock: a new image in the lock is the new image of the region (and only that region)', () => {
    const changed = { ...shipped, amiLock: { ...shipped.amiLock, 'ap-northeast-1': { x86_64: { ...shipped.amiLock['ap-northeast-1']!.x86_64!, imageId: 'ami-0feedfacecafe0001' } } } };
    expect(new Set(synthCluster(changed, 'dr').values('aws_launch_template').map((t) => t.image_id))).toEqual(new Set(['ami-0feedfacecafe0001']));
    expect(new Set(synthCluster(changed, 'production').values('aws_launch_template').map((t) => t.image_id))).toEqual(new Set([shipped.imageOf('production', 'x86_64').imageId]));
  });

  it('rejects an image that is not an ami- id', () => {
    expect(() => MachineImage.fromAmiIds({ x86_64: 'resolve:ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id' })).toThrow(
      'MachineImage: props.images.x86_64 = "resolve:ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id"; expected an EC2 image id: ami- and 8 or 17 lowercase hexadecimal digits (from the AMI lock)',
    );
  });

  it('refuses an architecture the lock has no image for', () => {
    expect(() => MachineImage.fromAmiIds({ x86_64: 'ami-0abcdef1234567890' }).imageId('arm64')).toThrow(
      'MachineImage: props.images.arm64 = undefined; expected an arm64 image id: an instance type of this architecture needs one (platform-config amiLock)',
    );
  });
});
