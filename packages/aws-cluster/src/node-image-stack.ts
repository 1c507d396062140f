import { DefaultSecurityGroup } from '@cdktf/provider-aws/lib/default-security-group';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { InternetGateway } from '@cdktf/provider-aws/lib/internet-gateway';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { KmsKeyPolicy } from '@cdktf/provider-aws/lib/kms-key-policy';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table';
import { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { debianArchitecture, imageBakeScript } from '@platform/node-bootstrap';
import { architecturesOf, bakedImageRegions, lockedImage, nodeImageNames, nodeImageStackName, type Platform } from '@platform/platform-config';
import { TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { NodeImagePipeline } from './image-builder/node-image-pipeline';
import { accountIdOf } from './private/arn';
import { invalidProp } from './private/validation';
import { StateBackend } from './state-backend';

export interface NodeImageStackProps {
  readonly platform: Platform;
  /** A region hosting at least one cluster with `nodeImage: NodeImage.baked()`. */
  readonly region: string;
  /** @default StateBackend.s3() with the platform's state bucket and this stack's key */
  readonly backend?: StateBackend;
}

/** The build network: its own VPC, one public subnet, nothing of any cluster's. */
const BUILD_CIDR = '10.254.0.0/24';

/**
 * One region's node image pipelines (`nodeImageStackName(region)`): one EC2 Image Builder pipeline
 * per Kubernetes version and architecture its baked clusters run, on the locked Ubuntu image.
 * Own VPC (why not a cluster's private subnet: docs/runbooks/node-images.md): the build instance
 * runs third-party installers and must not sit where the clusters' security groups admit the
 * VPC CIDR (API, kubelet, NodePorts), the stack depends on no cluster stack, and a weekly build
 * needs no NAT gateway: a public subnet, no inbound rule, egress 80/443 only.
 */
export class NodeImageStack extends TerraformStack {
  constructor(scope: Construct, id: string, props: NodeImageStackProps) {
    super(scope, id);
    const { platform, region } = props;
    const { settings, names } = platform;
    const versions = bakedImageRegions(platform.clusters).get(region);
    if (!versions) throw invalidProp('NodeImageStack', 'region', region, `a region with a cluster using NodeImage.baked() (${[...bakedImageRegions(platform.clusters).keys()].join(', ') || 'none'})`);
    const stack = nodeImageStackName(region);
    (props.backend ?? StateBackend.s3({ bucket: names.stateBucket, key: names.stateKey(stack), region: settings.state.region })).bind(this);
    new AwsProvider(this, 'aws', { region, defaultTags: [{ tags: { Stack: stack, ManagedBy: 'terraform' } }] });

    // The key of every baked AMI and its snapshots. Launching an encrypted image through an ASG
    // uses Auto Scaling's service-linked role, which only the key policy can admit (IAM alone cannot).
    const first = nodeImageNames(settings, region, versions[0]!, 'x86_64');
    const key = new KmsKey(this, 'key', { description: `Node images built in ${region}`, enableKeyRotation: true, deletionWindowInDays: 30 });
    new KmsAlias(this, 'key-alias', { name: first.keyAlias, targetKeyId: key.keyId });
    const account = accountIdOf(this, key.arn);
    const use = ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'];
    const serviceRoles = [`arn:aws:iam::${account}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`, `arn:aws:iam::${account}:role/aws-service-role/imagebuilder.amazonaws.com/AWSServiceRoleForImageBuilder`];
    new KmsKeyPolicy(this, 'key-policy', {
      keyId: key.keyId,
      policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Sid: 'AccountAdministers', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' },
          { Sid: 'ServiceRolesUse', Effect: 'Allow', Principal: { AWS: serviceRoles }, Action: use, Resource: '*' },
          { Sid: 'ServiceRolesGrantForVolumes', Effect: 'Allow', Principal: { AWS: serviceRoles }, Action: 'kms:CreateGrant', Resource: '*', Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } } },
        ],
      }),
    });

    const vpc = new Vpc(this, 'vpc', { cidrBlock: BUILD_CIDR, enableDnsSupport: true, enableDnsHostnames: true, tags: { Name: `${first.role}` } });
    // The VPC's default group admits nothing (nothing uses it).
    new DefaultSecurityGroup(this, 'default-sg', { vpcId: vpc.id });
    const igw = new InternetGateway(this, 'igw', { vpcId: vpc.id });
    const subnet = new Subnet(this, 'subnet', { vpcId: vpc.id, cidrBlock: BUILD_CIDR, mapPublicIpOnLaunch: true });
    const routes = new RouteTable(this, 'routes', { vpcId: vpc.id, route: [{ cidrBlock: '0.0.0.0/0', gatewayId: igw.id }] });
    new RouteTableAssociation(this, 'routes-subnet', { routeTableId: routes.id, subnetId: subnet.id });
    const group = new SecurityGroup(this, 'build-sg', { vpcId: vpc.id, name: `${first.role}-build`, description: 'Image Builder build instances: no inbound, egress to package archives and releases' });
    for (const port of [80, 443]) {
      // Ubuntu's archive is plain HTTP (apt checks its signatures); everything else is HTTPS.
      new VpcSecurityGroupEgressRule(this, `build-egress-${port}`, { securityGroupId: group.id, ipProtocol: 'tcp', fromPort: port, toPort: port, cidrIpv4: '0.0.0.0/0', description: port === 80 ? 'Ubuntu archive (signed)' : 'SSM, S3, pkgs.k8s.io, releases' });
    }

    // The build instance needs only what Image Builder drives it with: the SSM agent's channel and
    // the Image Builder component/log access of AWS's instance-profile policy.
    const role = new IamRole(this, 'builder-role', {
      name: first.role,
      assumeRolePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
    });
    ['AmazonSSMManagedInstanceCore', 'EC2InstanceProfileForImageBuilder'].forEach((policy) => new IamRolePolicyAttachment(this, `builder-${policy}`, { role: role.name, policyArn: `arn:aws:iam::aws:policy/${policy}` }));
    const profile = new IamInstanceProfile(this, 'builder-profile', { name: first.role, role: role.name });

    const pipelines: Record<string, string> = {};
    for (const version of versions) {
      const clusters = platform.clusters.filter((c) => c.region === region && c.kubernetesVersion === version && c.nodeImage.kind === 'baked');
      const architectures = [...new Set(clusters.flatMap((c) => [...architecturesOf(c).keys()]))].sort();
      for (const architecture of architectures) {
        const n = nodeImageNames(settings, region, version, architecture);
        const pipeline = new NodeImagePipeline(this, n.pipeline, {
          name: n.pipeline,
          region,
          amiNamePrefix: n.amiNamePrefix,
          parentImageId: lockedImage(platform.amiLock, region, architecture).imageId,
          bakeScript: imageBakeScript(clusters[0]!, debianArchitecture(architecture)),
          kmsKeyArn: key.arn,
          instanceProfileName: profile.name,
          subnetId: subnet.id,
          securityGroupId: group.id,
          instanceTypes: architecture === 'arm64' ? ['m7g.large'] : ['m7i.large'],
        });
        pipelines[n.pipeline] = pipeline.pipelineArn;
      }
    }
    new TerraformOutput(this, 'image_pipeline_arns', { value: pipelines });
  }
}
