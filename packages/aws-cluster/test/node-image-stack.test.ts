import { Testing } from 'cdktf';
import { gunzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { imageBakeScript } from '@platform/node-bootstrap';
import { describe, expect, it } from 'vitest';
import { COMPONENT_DATA_LIMIT, NodeImagePipeline, NodeImageStack } from '../src';
import { bareStack, platform, Synth, type Attributes } from './support';

const shipped = platform();

function synthImages(p = shipped, region = 'ap-northeast-2'): Synth {
  const app = Testing.app();
  return new Synth(Testing.synth(new NodeImageStack(app, `node-image-${region}`, { platform: p, region })));
}

/** The component document Image Builder receives (a plain string: nothing in it for Terraform to interpolate). */
function componentDocument(component: Attributes): Attributes {
  expect(component.data).not.toMatch(/\$\{|%\{/);
  return parse(component.data as string);
}

describe('NodeImageStack: the baked node image of a region', () => {
  it('one pipeline per baked Kubernetes version: recipe on the locked Ubuntu image, the build running node-prep.sh as a node would', () => {
    const synth = synthImages();
    expect(synth.count('aws_imagebuilder_image_pipeline')).toBe(1);
    const [recipe] = synth.values('aws_imagebuilder_image_recipe');
    expect(recipe.parent_image).toBe(shipped.imageOf('staging', 'x86_64').imageId);
    const document = componentDocument(synth.values('aws_imagebuilder_component')[0]!);
    const command: string = document.phases[0].steps[0].inputs.commands[0];
    const encoded = /^echo (\S+) \| base64 -d \| gunzip \| bash$/.exec(command);
    expect(encoded).not.toBeNull();
    // Exactly node-bootstrap's bake script (node-prep.sh and its pins), not a copy of its functions.
    expect(gunzipSync(Buffer.from(encoded![1]!, 'base64')).toString('utf8')).toBe(imageBakeScript(shipped.cluster('staging'), 'amd64'));
    expect(document.phases[1].steps[0].inputs.commands[0]).toContain("grep -q 'node already prepared'");
  });

  it('encrypts the build volume and the AMI with its own key, which admits the Auto Scaling service-linked role (an ASG cannot launch the image otherwise)', () => {
    const synth = synthImages();
    const [recipe] = synth.values('aws_imagebuilder_image_recipe');
    expect(recipe.block_device_mapping[0].ebs).toMatchObject({ encrypted: 'true', kms_key_id: '${aws_kms_key.key.arn}', volume_type: 'gp3' });
    const [distribution] = synth.values('aws_imagebuilder_distribution_configuration');
    expect(distribution.distribution).toEqual([{ region: 'ap-northeast-2', ami_distribution_configuration: expect.objectContaining({ kms_key_id: '${aws_kms_key.key.arn}', name: 'hakube-node-1-34-1-x86-64-{{ imagebuilder:buildDate }}' }) }]);
    const policy = JSON.parse(synth.values('aws_kms_key_policy')[0]!.policy);
    const grant = policy.Statement.find((s: Attributes) => s.Sid === 'ServiceRolesGrantForVolumes');
    expect(grant.Principal.AWS).toContain('arn:aws:iam::${local.account_id}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling');
    expect(grant.Condition).toEqual({ Bool: { 'kms:GrantIsForAWSResource': 'true' } });
  });

  it('builds in its own VPC: no inbound rule, egress 80/443 only, IMDSv2, instance terminated on failure, no NAT gateway', () => {
    const synth = synthImages();
    expect(synth.count('aws_vpc')).toBe(1);
    expect(synth.count('aws_nat_gateway')).toBe(0);
    expect(synth.count('aws_vpc_security_group_ingress_rule')).toBe(0);
    expect(synth.values('aws_security_group')[0]!.ingress).toBeUndefined();
    expect(synth.values('aws_vpc_security_group_egress_rule').map((r) => r.from_port).sort()).toEqual([443, 80]);
    const [infrastructure] = synth.values('aws_imagebuilder_infrastructure_configuration');
    expect(infrastructure).toMatchObject({ instance_metadata_options: { http_tokens: 'required', http_put_response_hop_limit: 1 }, terminate_instance_on_failure: true, subnet_id: '${aws_subnet.subnet.id}' });
    expect(synth.values('aws_iam_role_policy_attachment').map((a) => a.policy_arn).sort()).toEqual(['arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore', 'arn:aws:iam::aws:policy/EC2InstanceProfileForImageBuilder']);
  });

  it('versions recipe and component by content: a new locked Ubuntu image is a new recipe version, the component stays', () => {
    const before = synthImages();
    const moved = platform((input) => void input);
    const changed = { ...moved, amiLock: { ...moved.amiLock, 'ap-northeast-2': { x86_64: { ...moved.amiLock['ap-northeast-2']!.x86_64!, imageId: 'ami-0feedfacecafe0001' } } } };
    const after = synthImages(changed);
    expect(after.values('aws_imagebuilder_image_recipe')[0]!.version).not.toBe(before.values('aws_imagebuilder_image_recipe')[0]!.version);
    expect(after.values('aws_imagebuilder_component')[0]!.version).toBe(before.values('aws_imagebuilder_component')[0]!.version);
    expect(after.values('aws_imagebuilder_image_recipe')[0]!.lifecycle).toEqual({ create_before_destroy: true });
  });

  it('rejects a region without a baked cluster', () => {
    expect(() => synthImages(shipped, 'ap-northeast-1')).toThrow('NodeImageStack: props.region = "ap-northeast-1"; expected a region with a cluster using NodeImage.baked() (ap-northeast-2)');
  });

  it('rejects a parent image that is not an ami- id and a component document over the inline limit', () => {
    const props = { name: 'n', region: 'ap-northeast-2', amiNamePrefix: 'n-', parentImageId: 'ami-0abcdef1234567890', bakeScript: 'true', kmsKeyArn: 'k', instanceProfileName: 'p', subnetId: 's', securityGroupId: 'g' };
    expect(() => new NodeImagePipeline(bareStack(), 'p1', { ...props, parentImageId: 'resolve:ssm:/x' })).toThrow('NodeImagePipeline: props.parentImageId = "resolve:ssm:/x"; expected an EC2 image id from the AMI lock');
    const noise = Array.from({ length: 4000 }, (_, i) => `echo ${(i * 2654435761) % 4294967296}`).join('\n');
    expect(() => new NodeImagePipeline(bareStack(), 'p2', { ...props, bakeScript: noise })).toThrow(new RegExp(`^NodeImagePipeline: props\\.bakeScript = "\\d+ bytes of component document"; expected at most ${COMPONENT_DATA_LIMIT} \\(Image Builder's inline limit\\)$`));
  });
});
