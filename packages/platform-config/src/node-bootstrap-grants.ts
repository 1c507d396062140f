/**
 * What node-bootstrap does with a node's own role, as IAM actions, by purpose: the one list the
 * node policies grant (aws-cluster iam/node-policies.ts builds its statements from these, with
 * their resources and conditions) and ha-check measures a node role against (a pod that reaches
 * IMDS inherits whatever the role allows beyond it). The AWS cloud controller's own grants are not
 * here: they are the controller's, not the bootstrap's.
 */
export const NODE_BOOTSTRAP_GRANTS = {
  /** Both roles: kubelet and containerd pull from ECR. */
  pullImages: ['ecr:GetAuthorizationToken', 'ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
  /** Both roles: Session Manager only (AmazonSSMManagedInstanceCore would also read every parameter). */
  sessionManager: [
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
  /** Both roles: the user-data stub fetches its role's script bundle by version id. */
  fetchBootstrapBundle: ['s3:GetObject', 's3:GetObjectVersion'],
  /** Worker: read the join token and CA hash, decrypted through SSM. */
  readJoinMaterial: ['ssm:GetParameter', 'ssm:GetParameters'],
  decryptJoinMaterial: ['kms:Decrypt'],
  /** Control plane: publish the join material, the init lock and the rest of the cluster's parameters. */
  publishJoinMaterial: ['ssm:GetParameter', 'ssm:PutParameter'],
  bootstrapParameters: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath', 'ssm:PutParameter', 'ssm:DeleteParameter'],
  secureParameters: ['kms:Encrypt', 'kms:Decrypt'],
  publishCiKubeconfig: ['ssm:PutParameter'],
  /** Control plane: each node records the IRSA stage it booted with (the apply's identity-roll gate reads it). */
  recordIdentityStage: ['ssm:PutParameter'],
  /** Control plane: which control-plane instances exist and which their ASG is terminating. */
  controlPlaneMembership: ['ec2:DescribeInstances', 'autoscaling:DescribeAutoScalingInstances'],
  /** Control plane: the initialiser completes its own launching hook. */
  completeLaunchingHook: ['autoscaling:CompleteLifecycleAction'],
  /** Control plane: etcd snapshots, write-only under their prefix, SSE-KMS through S3. */
  locateBackups: ['s3:GetBucketLocation'],
  listSnapshots: ['s3:ListBucket'],
  writeSnapshots: ['s3:PutObject', 's3:DeleteObject'],
  encryptSnapshots: ['kms:GenerateDataKey'],
  /** Control plane: the service-account issuer's discovery document and JWKS. */
  publishServiceAccountIssuer: ['s3:PutObject'],
  /** Control plane: find its ASG's etcd slot (volume and member address) by tag. */
  findEtcdSlot: ['ec2:DescribeVolumes', 'ec2:DescribeNetworkInterfaces'],
  /** Control plane: attach the slot's volume and ENI at boot, hand them over at termination (tag-scoped). */
  attachEtcdSlot: ['ec2:AttachVolume', 'ec2:DetachVolume', 'ec2:AttachNetworkInterface', 'ec2:DetachNetworkInterface'],
  /** Control plane: EC2 needs a grant on the cluster key to use the attached encrypted volume. */
  grantEtcdVolumeKey: ['kms:CreateGrant'],
} as const satisfies Record<string, readonly string[]>;

/** Every action the bootstrap grants, once each, in declaration order. */
export function nodeBootstrapActions(): string[] {
  return [...new Set(Object.values(NODE_BOOTSTRAP_GRANTS).flat())];
}
