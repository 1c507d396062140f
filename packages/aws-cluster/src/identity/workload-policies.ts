import { policyDocument, type PolicyDocument, type PolicyStatement } from '../iam/policy-document';
import { invalidProp } from '../private/validation';
import type { WorkloadPolicies } from './workload-roles';

/** A bucket in another stack that a restore reads, named rather than referenced (stacks apply separately). */
export interface RestoreSource {
  readonly bucketName: string;
  /** Its region: KMS is used through that region's S3 endpoint. */
  readonly region: string;
}

/** What the workload policies refer to; ARNs may be tokens. */
export interface WorkloadPolicyContext {
  readonly region: string;
  readonly accountId: string;
  /** `kubernetes.io/cluster/<name>`: instances, volumes and ASGs of this cluster carry it as `owned`. */
  readonly clusterTagKey: string;
  /** `k8s.io/cluster-autoscaler/<name>`: only worker ASGs carry it. */
  readonly autoscalerClusterTagKey: string;
  /** The node termination handler's rights on its queue and the hooks (TerminationHandling.handlerPolicy). */
  readonly nodeTerminationHandler: PolicyDocument;
  readonly appBackups: {
    /** The cluster's own app backup bucket (read and write below `prefix`). */
    readonly bucketArn: string;
    /** Key prefix the database may touch, ending in "/" (platform-config appBackupArchive.bucketPrefix). */
    readonly prefix: string;
    /** The key the bucket encrypts with (the cluster key). */
    readonly kmsKeyArn: string;
    /** Buckets a restore reads below `prefix`: the standby's primary's replica, or a primary's standby when failing back. */
    readonly restoreSources: readonly RestoreSource[];
    /**
     * The bucket the database archives into when it is not the cluster's own: a failover
     * primary's bucket in the standby's region (platform-config names.appWalArchive). Read and
     * write below `prefix`, its key through S3 in that region.
     * @default - the database archives into `bucketArn`
     */
    readonly walArchive?: { readonly bucketArn: string; readonly kmsKeyArn: string; readonly region: string };
  };
}

const owned = (key: string) => ({ [`aws:ResourceTag/${key}`]: 'owned' });
const EBS_CSI_TAG = 'ebs.csi.aws.com/cluster';
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Each workload identity's policy, keyed by its id (platform-config WORKLOAD_IDENTITY_IDS): what
 * the node roles held for these add-ons before they had roles of their own, with the same
 * resource and tag conditions.
 */
export function workloadPolicies(ctx: WorkloadPolicyContext): WorkloadPolicies {
  if (!/^[a-z0-9][a-z0-9._-]*\/$/.test(ctx.appBackups.prefix)) {
    throw invalidProp('workloadPolicies', 'appBackups.prefix', ctx.appBackups.prefix, 'a key prefix ending in "/", such as "postgres/" (never the whole bucket)');
  }
  ctx.appBackups.restoreSources.forEach((source, i) => {
    if (!BUCKET_NAME.test(source.bucketName)) throw invalidProp('workloadPolicies', `appBackups.restoreSources[${i}].bucketName`, source.bucketName, 'an S3 bucket name');
  });
  return {
    'ebs-csi-controller': ebsCsiController(ctx),
    'cluster-autoscaler': clusterAutoscaler(ctx),
    'node-termination-handler': ctx.nodeTerminationHandler,
    'postgres-backups': policyDocument(...ownBackups(ctx), ...walArchive(ctx), ...ctx.appBackups.restoreSources.flatMap((source, i) => restoreSource(ctx, source, i))),
    'cloud-controller': cloudController(),
  };
}

/**
 * The AWS cloud controller as we run it: the node controllers (node lifecycle, initialisation:
 * instances by id or private DNS name, their zone and zone id, their topology labels) and the
 * service controller, read-only. Taken from cloud-provider-aws's documented control-plane policy
 * (docs/prerequisites.md), less what no controller we run calls (checked in its v1.34 source):
 * routes (`--configure-cloud-routes=false`), the in-tree volume and instance-group calls
 * (autoscaling:Describe*, ec2:DescribeVolumes, DescribeRegions, kms:DescribeKey), and every write.
 * Load balancers are Terraform's (docs/decisions/ingress.md): a Service of type LoadBalancer fails
 * visibly (AccessDenied events) instead of creating an NLB outside the reviewed plan.
 */
function cloudController(): PolicyDocument {
  return policyDocument(
    {
      Sid: 'InitialiseNodes',
      Effect: 'Allow',
      Action: ['ec2:DescribeInstances', 'ec2:DescribeInstanceTopology', 'ec2:DescribeAvailabilityZones', 'ec2:DescribeVpcs'],
      Resource: '*',
    },
    {
      Sid: 'ServiceControllerReadOnly',
      Effect: 'Allow',
      Action: [
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeSubnets',
        'elasticloadbalancing:DescribeLoadBalancers',
        'elasticloadbalancing:DescribeLoadBalancerAttributes',
        'elasticloadbalancing:DescribeListeners',
        'elasticloadbalancing:DescribeTargetGroups',
        'elasticloadbalancing:DescribeTargetHealth',
        'elasticloadbalancing:DescribeLoadBalancerPolicies',
      ],
      Resource: '*',
    },
  );
}

function ebsCsiController(ctx: WorkloadPolicyContext): PolicyDocument {
  const driverRequestTags = { [`aws:RequestTag/${EBS_CSI_TAG}`]: 'true', [`aws:RequestTag/${ctx.clusterTagKey}`]: 'owned' };
  return policyDocument(
    {
      Sid: 'Describe',
      Effect: 'Allow',
      Action: ['ec2:DescribeAvailabilityZones', 'ec2:DescribeInstances', 'ec2:DescribeSnapshots', 'ec2:DescribeTags', 'ec2:DescribeVolumes', 'ec2:DescribeVolumesModifications'],
      Resource: '*',
    },
    // Every cluster's driver tags `ebs.csi.aws.com/cluster=true`, so that tag alone would let one
    // cluster's controller delete another's volumes in the same account and region. The driver
    // also tags `<clusterTagKey>=owned` (its k8sTagClusterId is the cluster name, k8s-addons
    // EbsCsiDriver): creating requires both tags, changing or deleting requires this cluster's.
    { Sid: 'CreateDriverVolumes', Effect: 'Allow', Action: 'ec2:CreateVolume', Resource: 'arn:aws:ec2:*:*:volume/*', Condition: { StringEquals: driverRequestTags } },
    { Sid: 'CreateDriverSnapshots', Effect: 'Allow', Action: 'ec2:CreateSnapshot', Resource: 'arn:aws:ec2:*:*:snapshot/*', Condition: { StringEquals: driverRequestTags } },
    { Sid: 'VolumesFromSnapshots', Effect: 'Allow', Action: 'ec2:CreateVolume', Resource: 'arn:aws:ec2:*:*:snapshot/*' },
    { Sid: 'TagOnCreate', Effect: 'Allow', Action: 'ec2:CreateTags', Resource: ['arn:aws:ec2:*:*:volume/*', 'arn:aws:ec2:*:*:snapshot/*'], Condition: { StringEquals: { 'ec2:CreateAction': ['CreateVolume', 'CreateSnapshot'] } } },
    {
      Sid: 'ManageDriverVolumes',
      Effect: 'Allow',
      Action: ['ec2:AttachVolume', 'ec2:DetachVolume', 'ec2:ModifyVolume', 'ec2:DeleteVolume', 'ec2:CreateSnapshot', 'ec2:DeleteSnapshot'],
      Resource: ['arn:aws:ec2:*:*:volume/*', 'arn:aws:ec2:*:*:snapshot/*'],
      Condition: { StringEquals: owned(ctx.clusterTagKey) },
    },
    { Sid: 'AttachToClusterNodes', Effect: 'Allow', Action: ['ec2:AttachVolume', 'ec2:DetachVolume'], Resource: 'arn:aws:ec2:*:*:instance/*', Condition: { StringEquals: owned(ctx.clusterTagKey) } },
  );
}

function clusterAutoscaler(ctx: WorkloadPolicyContext): PolicyDocument {
  return policyDocument(
    {
      Sid: 'Discover',
      Effect: 'Allow',
      Action: [
        'autoscaling:DescribeAutoScalingGroups',
        'autoscaling:DescribeAutoScalingInstances',
        'autoscaling:DescribeLaunchConfigurations',
        'autoscaling:DescribeScalingActivities',
        'autoscaling:DescribeTags',
        'ec2:DescribeImages',
        'ec2:DescribeInstanceTypes',
        'ec2:DescribeLaunchTemplateVersions',
        'ec2:GetInstanceTypesFromInstanceRequirements',
      ],
      Resource: '*',
    },
    {
      Sid: 'ScaleThisClustersWorkerGroups',
      Effect: 'Allow',
      Action: ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup'],
      Resource: '*',
      Condition: { StringEquals: { ...owned(ctx.clusterTagKey), ...owned(ctx.autoscalerClusterTagKey) } },
    },
  );
}

function ownBackups(ctx: WorkloadPolicyContext): PolicyStatement[] {
  const { bucketArn, prefix, kmsKeyArn } = ctx.appBackups;
  return [
    // barman-cloud checks the bucket with HeadBucket, which needs s3:ListBucket with no prefix
    // condition; listing shows key names only, objects stay limited to the prefix.
    { Sid: 'ListBackupBucket', Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetBucketLocation'], Resource: bucketArn },
    { Sid: 'ReadWriteBackups', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'], Resource: `${bucketArn}/${prefix}*` },
    // Only through S3 in its region: the same key encrypts the join material in SSM.
    { Sid: 'UseClusterKeyThroughS3', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: kmsKeyArn, Condition: { StringEquals: { 'kms:ViaService': `s3.${ctx.region}.amazonaws.com` } } },
  ];
}

/**
 * The archive in the standby's region: barman-cloud writes each WAL segment and base backup there
 * (PutObject, multipart for base backups), reads them back for a restore and prunes them
 * (retentionPolicy). With SSE-KMS, S3 asks KMS for a data key as the caller on a write and for a
 * decrypt on a read or a multipart completion (kms:Encrypt itself is never called by S3).
 */
function walArchive(ctx: WorkloadPolicyContext): PolicyStatement[] {
  const archive = ctx.appBackups.walArchive;
  if (!archive) return [];
  return [
    { Sid: 'ListWalArchiveBucket', Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetBucketLocation'], Resource: archive.bucketArn },
    { Sid: 'ReadWriteWalArchive', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'], Resource: `${archive.bucketArn}/${ctx.appBackups.prefix}*` },
    { Sid: 'UseWalArchiveKeyThroughS3', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: archive.kmsKeyArn, Condition: { StringEquals: { 'kms:ViaService': `s3.${archive.region}.amazonaws.com` } } },
  ];
}

/**
 * Read-only on another stack's bucket. Its objects are encrypted with a key of that stack (a
 * replica holds the replica-region key, not the source's), whose ARN this stack cannot know: the
 * grant is any key of the account in that region, used by S3 there for this bucket's objects
 * only (S3 puts the bucket ARN, or with bucket keys off the object ARN, in the encryption context).
 */
function restoreSource(ctx: WorkloadPolicyContext, source: RestoreSource, index: number): PolicyStatement[] {
  const arn = `arn:aws:s3:::${source.bucketName}`;
  const n = index + 1;
  return [
    { Sid: `ListRestoreSource${n}`, Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetBucketLocation'], Resource: arn },
    { Sid: `ReadRestoreSource${n}`, Effect: 'Allow', Action: 's3:GetObject', Resource: `${arn}/${ctx.appBackups.prefix}*` },
    {
      Sid: `DecryptRestoreSource${n}`,
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: `arn:aws:kms:${source.region}:${ctx.accountId}:key/*`,
      Condition: {
        StringEquals: { 'kms:ViaService': `s3.${source.region}.amazonaws.com` },
        StringLike: { 'kms:EncryptionContext:aws:s3:arn': [arn, `${arn}/*`] },
      },
    },
  ];
}
