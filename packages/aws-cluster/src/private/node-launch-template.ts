import { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template';
import type { Construct } from 'constructs';
import { launchTemplateUserData } from './terraform-string';

export interface NodeLaunchTemplateProps {
  readonly name: string;
  readonly imageId: string;
  readonly rootDeviceName: string;
  /** Unset for mixed-instances pools, whose ASG lists the types. */
  readonly instanceType?: string;
  readonly rootVolumeGiB: number;
  readonly instanceProfileName: string;
  readonly securityGroupIds: readonly string[];
  /** Plain `#cloud-config`; may hold Terraform tokens. */
  readonly cloudConfig: string;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * The launch template every node uses: IMDSv2 only with a hop limit of 1 (pods behind the
 * node's network namespace cannot reach instance credentials), encrypted gp3 root, no SSH
 * key (SSM Session Manager instead).
 */
export function nodeLaunchTemplate(scope: Construct, id: string, props: NodeLaunchTemplateProps): LaunchTemplate {
  return new LaunchTemplate(scope, id, {
    name: props.name,
    imageId: props.imageId,
    instanceType: props.instanceType,
    updateDefaultVersion: true,
    iamInstanceProfile: { name: props.instanceProfileName },
    vpcSecurityGroupIds: [...props.securityGroupIds],
    metadataOptions: { httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 1, instanceMetadataTags: 'disabled' },
    blockDeviceMappings: [
      { deviceName: props.rootDeviceName, ebs: { volumeType: 'gp3', volumeSize: props.rootVolumeGiB, encrypted: 'true', deleteOnTermination: 'true' } },
    ],
    userData: launchTemplateUserData(props.cloudConfig),
    tagSpecifications: ['instance', 'volume'].map((resourceType) => ({ resourceType, tags: { ...props.tags } })),
    tags: { Name: props.name },
  });
}
