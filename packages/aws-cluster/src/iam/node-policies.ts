import { ssmParameterArn } from '@platform/platform-config';
import { policyDocument, type PolicyDocument, type PolicyStatement } from './policy-document';

/** What the node policies refer to; ARNs may be tokens. */
export interface NodePolicyContext {
  readonly region: string;
  readonly accountId: string;
  /** `kubernetes.io/cluster/<name>`: instances, volumes and ASGs of this cluster carry it as `owned`. */
  readonly clusterTagKey: string;
  /** `k8s.io/cluster-autoscaler/<name>`: only worker ASGs carry it. */
  readonly autoscalerClusterTagKey: string;
  readonly kmsKeyArn: string;
  /** SSM path holding the cluster's join material and init lock, e.g. `/org/cluster`. */
  readonly ssmPrefix: string;
  /** The region-failover kubeconfig the initialiser publishes (platform-config `names.ssm.ciKubeconfig`). */
  readonly ciKubeconfigParameter: string;
  /**
   * SecureStrings a person writes with the cluster key and the control plane reads (Flux Git
   * credentials, app backup credentials): names, each starting with "/".
   */
  readonly operatorSecureStrings: readonly string[];
  /** ARNs of all join parameters (JoinParameters.arns): the control plane creates and refreshes them. */
  readonly joinParameterArns: readonly string[];
  /** Parameters a worker may read (join token, CA hash): never the control-plane certificate key. */
  readonly workerJoinParameterArns: readonly string[];
  readonly backupBucketArn: string;
  /** Key prefix of this cluster's etcd snapshots (platform-config `bootstrapNames`), no trailing slash. */
  readonly etcdSnapshotPrefix: string;
  /** ARN of each role's script bundle object (BootstrapBundles): a node reads only its own role's. */
  readonly bootstrapBundleArns: Readonly<Record<'control-plane' | 'worker', string>>;
  /** ARNs of the issuer's two discovery objects (ServiceAccountIssuer.objectArns): the control plane publishes them. */
  readonly serviceAccountIssuerObjectArns: readonly string[];
}

const owned = (key: string) => ({ [`aws:ResourceTag/${key}`]: 'owned' });
const EBS_CSI_TAG = 'ebs.csi.aws.com/cluster';

function ecrRead(): PolicyStatement {
  return {
    Sid: 'PullImagesFromEcr',
    Effect: 'Allow',
    Action: ['ecr:GetAuthorizationToken', 'ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
    Resource: '*',
  };
}

/** Session Manager only; AmazonSSMManagedInstanceCore would also allow reading every parameter. */
function sessionManager(): PolicyStatement {
  return {
    Sid: 'SessionManager',
    Effect: 'Allow',
    Action: [
      'ssm:UpdateInstanceInformation',
      'ssmmessages:CreateControlChannel',
      'ssmmessages:CreateDataChannel',
      'ssmmessages:OpenControlChannel',
      'ssmmessages:OpenDataChannel',
      'ec2messages:AcknowledgeMessage',
      'ec2messages:DeleteMessage',
      'ec2messages:FailMessage',
      'ec2messages:GetEndpoint',
      'ec2messages:GetMessages',
      'ec2messages:SendReply',
    ],
    Resource: '*',
  };
}

/** The stub in user data (node-bootstrap fetch-bundle.py) GETs its role's bundle by version id. */
function readBootstrapBundle(objectArn: string): PolicyDocument {
  return policyDocument({ Sid: 'FetchBootstrapBundle', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: objectArn });
}

/**
 * Control-plane role: kubeadm join material and init lock in SSM, etcd snapshots in the
 * backup bucket, and the AWS cloud controller, EBS CSI controller and cluster-autoscaler,
 * which run on control-plane nodes with host networking and use this role.
 */
export function controlPlanePolicies(ctx: NodePolicyContext): Record<string, PolicyDocument> {
  const parameters = `arn:aws:ssm:${ctx.region}:${ctx.accountId}:parameter${ctx.ssmPrefix}/*`;
  const ciKubeconfig = ssmParameterArn(ctx.ciKubeconfigParameter, ctx.region, ctx.accountId);
  const secureStrings = [...ctx.joinParameterArns, ciKubeconfig, ...ctx.operatorSecureStrings.map((name) => ssmParameterArn(name, ctx.region, ctx.accountId))];
  const driverRequestTags = { [`aws:RequestTag/${EBS_CSI_TAG}`]: 'true', [`aws:RequestTag/${ctx.clusterTagKey}`]: 'owned' };
  return {
    'join-material': policyDocument(
      // The initialiser creates the join parameters (absent = not published) and every control-plane node refreshes them.
      { Sid: 'PublishJoinMaterial', Effect: 'Allow', Action: ['ssm:GetParameter', 'ssm:PutParameter'], Resource: [...ctx.joinParameterArns] },
      // Init and refresh locks, the restore marker, the credentials install-addons.sh reads.
      { Sid: 'BootstrapParameters', Effect: 'Allow', Action: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath', 'ssm:PutParameter', 'ssm:DeleteParameter'], Resource: parameters },
      // Standard SecureStrings are encrypted and decrypted directly under the key, by SSM, with the
      // parameter's ARN as encryption context: the cluster key serves SSM only for these parameters.
      {
        Sid: 'SecureStringsViaSsm',
        Effect: 'Allow',
        Action: ['kms:Encrypt', 'kms:Decrypt'],
        Resource: ctx.kmsKeyArn,
        Condition: { StringEquals: { 'kms:ViaService': `ssm.${ctx.region}.amazonaws.com`, 'kms:EncryptionContext:PARAMETER_ARN': secureStrings } },
      },
      // node-bootstrap ci-kubeconfig.sh: named on its own so narrowing the prefix grant above keeps it.
      { Sid: 'PublishCiKubeconfig', Effect: 'Allow', Action: 'ssm:PutParameter', Resource: ciKubeconfig },
      // node-bootstrap control-plane.sh: which control-plane instances exist and which their ASG is
      // terminating (their etcd members go before a join), whether a dead initialiser is gone. Named
      // here so the bootstrap keeps them without the add-ons' grants. Neither action supports
      // resource-level permissions.
      { Sid: 'ControlPlaneMembership', Effect: 'Allow', Action: ['ec2:DescribeInstances', 'autoscaling:DescribeAutoScalingInstances'], Resource: '*' },
    ),
    'etcd-backups': policyDocument(
      { Sid: 'LocateBackups', Effect: 'Allow', Action: 's3:GetBucketLocation', Resource: ctx.backupBucketArn },
      { Sid: 'ListSnapshots', Effect: 'Allow', Action: 's3:ListBucket', Resource: ctx.backupBucketArn, Condition: { StringLike: { 's3:prefix': `${ctx.etcdSnapshotPrefix}/*` } } },
      // DeleteObject for the snapshot timer's retention (node-bootstrap etcd-snapshot.sh). The bucket is
      // versioned and this role gets no DeleteObjectVersion: a delete leaves a marker, the snapshot
      // stays recoverable for the bucket's retention. Only under the snapshot prefix.
      { Sid: 'ReadWriteSnapshots', Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:AbortMultipartUpload'], Resource: `${ctx.backupBucketArn}/${ctx.etcdSnapshotPrefix}/*` },
      // SSE-KMS through S3 only (upload: GenerateDataKey, download: Decrypt); never a direct KMS call.
      { Sid: 'EncryptSnapshots', Effect: 'Allow', Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'], Resource: ctx.kmsKeyArn, Condition: { StringEquals: { 'kms:ViaService': `s3.${ctx.region}.amazonaws.com` } } },
    ),
    'cloud-controller': policyDocument(
      {
        Sid: 'Describe',
        Effect: 'Allow',
        Action: [
          'autoscaling:DescribeAutoScalingGroups',
          'autoscaling:DescribeTags',
          'ec2:DescribeAvailabilityZones',
          'ec2:DescribeInstances',
          'ec2:DescribeInstanceTopology',
          'ec2:DescribeRegions',
          'ec2:DescribeRouteTables',
          'ec2:DescribeSecurityGroups',
          'ec2:DescribeSubnets',
          'ec2:DescribeVolumes',
          'ec2:DescribeVpcs',
          'elasticloadbalancing:DescribeLoadBalancers',
          'elasticloadbalancing:DescribeLoadBalancerAttributes',
          'elasticloadbalancing:DescribeListeners',
          'elasticloadbalancing:DescribeTargetGroups',
          'elasticloadbalancing:DescribeTargetHealth',
          'elasticloadbalancing:DescribeLoadBalancerPolicies',
          'kms:DescribeKey',
        ],
        Resource: '*',
      },
      // Nothing else: load balancers are Terraform's (docs/decisions/ingress.md), so the service
      // controller gets no ELB or security-group write rights. A Service of type LoadBalancer
      // fails visibly (AccessDenied events) instead of creating an NLB outside the reviewed plan.
    ),
    'ebs-csi-controller': policyDocument(
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
    ),
    'cluster-autoscaler': policyDocument(
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
    ),
    'node-access': policyDocument(ecrRead(), sessionManager()),
    'bootstrap-bundle': readBootstrapBundle(ctx.bootstrapBundleArns['control-plane']),
    // node-bootstrap service-account-issuer.sh: every control-plane node writes the discovery
    // document and JWKS at boot; exactly those two keys, nothing to list, read or delete.
    'service-account-issuer': policyDocument({ Sid: 'PublishServiceAccountIssuer', Effect: 'Allow', Action: 's3:PutObject', Resource: [...ctx.serviceAccountIssuerObjectArns] }),
  };
}

/** Worker role: read the join token and CA hash (nothing else in SSM), pull from ECR, Session Manager. */
export function workerPolicies(ctx: NodePolicyContext): Record<string, PolicyDocument> {
  return {
    'join-material': policyDocument(
      { Sid: 'ReadJoinMaterial', Effect: 'Allow', Action: ['ssm:GetParameter', 'ssm:GetParameters'], Resource: [...ctx.workerJoinParameterArns] },
      // SecureString decryption names the parameter in the encryption context: only these two.
      {
        Sid: 'DecryptJoinMaterial',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: ctx.kmsKeyArn,
        Condition: { StringEquals: { 'kms:ViaService': `ssm.${ctx.region}.amazonaws.com`, 'kms:EncryptionContext:PARAMETER_ARN': [...ctx.workerJoinParameterArns] } },
      },
    ),
    'node-access': policyDocument(ecrRead(), sessionManager()),
    'bootstrap-bundle': readBootstrapBundle(ctx.bootstrapBundleArns.worker),
  };
}
