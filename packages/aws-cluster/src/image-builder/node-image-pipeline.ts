import { ImagebuilderComponent } from '@cdktf/provider-aws/lib/imagebuilder-component';
import { ImagebuilderDistributionConfiguration } from '@cdktf/provider-aws/lib/imagebuilder-distribution-configuration';
import { ImagebuilderImagePipeline } from '@cdktf/provider-aws/lib/imagebuilder-image-pipeline';
import { ImagebuilderImageRecipe } from '@cdktf/provider-aws/lib/imagebuilder-image-recipe';
import { ImagebuilderInfrastructureConfiguration } from '@cdktf/provider-aws/lib/imagebuilder-infrastructure-configuration';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { Construct } from 'constructs';
import { stringify } from 'yaml';
import { AMI_ID_PATTERN } from '@platform/platform-config';
import { invalidProp } from '../private/validation';

/** Image Builder's limit on an inline component document (`data`). */
export const COMPONENT_DATA_LIMIT = 16_000;

export interface NodeImagePipelineProps {
  /** Image Builder names: the pipeline, its recipe, component, configurations (platform-config nodeImageNames). */
  readonly name: string;
  /** The region the image is distributed in (the stack's). */
  readonly region: string;
  /** The AMI name prefix of every build (`<prefix>{{ imagebuilder:buildDate }}`). */
  readonly amiNamePrefix: string;
  /** The locked Ubuntu image the recipe builds on (`ami-…` from the AMI lock). */
  readonly parentImageId: string;
  /** The bash that installs the pinned tools: node-bootstrap's `imageBakeScript` (node-prep.sh itself). */
  readonly bakeScript: string;
  readonly kmsKeyArn: string;
  readonly instanceProfileName: string;
  readonly subnetId: string;
  readonly securityGroupId: string;
  /** @default ['m7i.large'] (x86_64; an arm64 pipeline passes a Graviton type) */
  readonly instanceTypes?: readonly string[];
  /**
   * Image Builder schedule (cron in UTC), or undefined for manual runs only.
   * @default 'cron(0 18 ? * sun *)' (Sunday 18:00 UTC, before the Monday ami-lock run)
   */
  readonly schedule?: string | null;
  /** @default 40 */
  readonly rootVolumeGiB?: number;
}

/**
 * One EC2 Image Builder pipeline: a build component running node-prep.sh (the same script and
 * pins a node runs, not a copy of its functions) and a test component proving a second run finds
 * the node prepared (what a booted node checks before it would download), on the locked Ubuntu
 * image, built in the given subnet with IMDSv2 only, the AMI and its snapshots encrypted with
 * `kmsKeyArn`, distributed in this region.
 * Recipe and component versions are derived from their content: Image Builder versions are
 * immutable, so any change is a new version (create before destroy: the pipeline moves to it).
 */
export class NodeImagePipeline extends Construct {
  readonly pipelineArn: string;

  constructor(scope: Construct, id: string, props: NodeImagePipelineProps) {
    super(scope, id);
    if (!/^[a-z0-9][a-z0-9-]{0,100}$/.test(props.name)) throw invalidProp('NodeImagePipeline', 'name', props.name, 'lowercase letters, digits and hyphens (Image Builder names)');
    if (!AMI_ID_PATTERN.test(props.parentImageId)) throw invalidProp('NodeImagePipeline', 'parentImageId', props.parentImageId, 'an EC2 image id from the AMI lock');
    const document = stringify(
      {
        name: props.name,
        description: 'node-prep.sh of node-bootstrap: pinned containerd/runc, kubeadm/kubelet/kubectl, AWS CLI, etcdctl/etcdutl, helm',
        schemaVersion: 1.0,
        phases: [
          // gzip + base64: the scripts as they are (comments and all) would pass Image Builder's 16 000-character limit.
          { name: 'build', steps: [{ name: 'NodePrep', action: 'ExecuteBash', inputs: { commands: [`echo ${gzipSync(props.bakeScript, { level: 9 }).toString('base64')} | base64 -d | gunzip | bash`] } }] },
          // The check a booted node makes: a second run finds the marker and the pinned versions and downloads nothing.
          { name: 'test', steps: [{ name: 'Prepared', action: 'ExecuteBash', inputs: { commands: ["bash /opt/node-bootstrap/node-prep.sh 2>&1 | tee /dev/stderr | grep -q 'node already prepared'"] } }] },
        ],
      },
      { lineWidth: 0 },
    );
    if (Buffer.byteLength(document) > COMPONENT_DATA_LIMIT) throw invalidProp('NodeImagePipeline', 'bakeScript', `${Buffer.byteLength(document)} bytes of component document`, `at most ${COMPONENT_DATA_LIMIT} (Image Builder's inline limit)`);
    const rootVolumeGiB = props.rootVolumeGiB ?? 40;
    if (!Number.isInteger(rootVolumeGiB) || rootVolumeGiB < 8) throw invalidProp('NodeImagePipeline', 'rootVolumeGiB', rootVolumeGiB, 'an integer of at least 8');
    const version = (text: string) => `1.0.${parseInt(createHash('sha256').update(text).digest('hex').slice(0, 7), 16)}`;

    const component = new ImagebuilderComponent(this, 'component', {
      name: props.name,
      platform: 'Linux',
      version: version(document),
      // The script travels base64-encoded: the document holds no `${` or `%{` Terraform would interpret.
      data: document,
      kmsKeyId: props.kmsKeyArn,
      supportedOsVersions: ['Ubuntu 24'],
      lifecycle: { createBeforeDestroy: true },
    });
    const recipeContent = JSON.stringify([document, props.parentImageId, rootVolumeGiB]);
    const recipe = new ImagebuilderImageRecipe(this, 'recipe', {
      name: props.name,
      version: version(recipeContent),
      parentImage: props.parentImageId,
      component: [{ componentArn: component.arn }],
      blockDeviceMapping: [{ deviceName: '/dev/sda1', ebs: { encrypted: 'true', kmsKeyId: props.kmsKeyArn, volumeSize: rootVolumeGiB, volumeType: 'gp3', deleteOnTermination: 'true' } }],
      // The SSM agent Image Builder drives the build with stays (Ubuntu ships it as a snap).
      systemsManagerAgent: { uninstallAfterBuild: false },
      lifecycle: { createBeforeDestroy: true },
    });
    const infrastructure = new ImagebuilderInfrastructureConfiguration(this, 'infrastructure', {
      name: props.name,
      instanceProfileName: props.instanceProfileName,
      instanceTypes: [...(props.instanceTypes ?? ['m7i.large'])],
      subnetId: props.subnetId,
      securityGroupIds: [props.securityGroupId],
      terminateInstanceOnFailure: true,
      instanceMetadataOptions: { httpTokens: 'required', httpPutResponseHopLimit: 1 },
    });
    const distribution = new ImagebuilderDistributionConfiguration(this, 'distribution', {
      name: props.name,
      distribution: [
        {
          region: props.region,
          amiDistributionConfiguration: { name: `${props.amiNamePrefix}{{ imagebuilder:buildDate }}`, kmsKeyId: props.kmsKeyArn, amiTags: { Pipeline: props.name } },
        },
      ],
    });
    const schedule = props.schedule === undefined ? 'cron(0 18 ? * sun *)' : props.schedule;
    const pipeline = new ImagebuilderImagePipeline(this, 'pipeline', {
      name: props.name,
      imageRecipeArn: recipe.arn,
      infrastructureConfigurationArn: infrastructure.arn,
      distributionConfigurationArn: distribution.arn,
      imageTestsConfiguration: { imageTestsEnabled: true, timeoutMinutes: 60 },
      enhancedImageMetadataEnabled: true,
      ...(schedule ? { schedule: { scheduleExpression: schedule, pipelineExecutionStartCondition: 'EXPRESSION_MATCH_ONLY' } } : {}),
    });
    this.pipelineArn = pipeline.arn;
  }
}
