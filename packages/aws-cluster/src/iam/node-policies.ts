import { NODE_BOOTSTRAP_GRANTS, ssmParameterArn, type ServiceAccountIdentity } from '@platform/platform-config';
import type { WorkloadPolicies } from '../identity/workload-roles';
import { policyDocument, type PolicyDocument, type PolicyStatement } from './policy-document';

/** What the node policies refer to; ARNs may be tokens. */
export interface NodePolicyContext {
  readonly region: string;
  readonly accountId: string;
  /** `kubernetes.io/cluster/<name>`: instances, volumes and ASGs of this cluster carry it as `owned`. */
  readonly clusterTagKey: string;
  readonly kmsKeyArn: string;
  /** SSM path holding the cluster's join material and init lock, e.g. `/org/cluster`. */
  readonly ssmPrefix: string;
  /** The region-failover kubeconfig the initialiser publishes (platform-config `names.ssm.ciKubeconfig`). */
  readonly ciKubeconfigParameter: string;
  /**
   * SecureStrings a person writes with the cluster key and the control plane reads (Flux Git
   * credentials): names, each starting with "/".
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
  /** SSM path of the control-plane nodes' IRSA stage records (platform-config `bootstrapNames().identityStageRecords`), no trailing slash. */
  readonly identityStageRecords: string;
  /** Tags of the control-plane slots' etcd volumes and addresses (platform-config `names.etcdSlot`) and the cluster name they carry. */
  readonly etcdSlot: { readonly clusterTagKey: string; readonly slotTagKey: string; readonly clusterName: string };
}

/**
 * A bootstrap statement's actions, from platform-config's NODE_BOOTSTRAP_GRANTS (the list ha-check
 * holds node roles to); one action stays a string, as the policies have always rendered it.
 */
function grant(purpose: keyof typeof NODE_BOOTSTRAP_GRANTS): string | string[] {
  const actions = NODE_BOOTSTRAP_GRANTS[purpose];
  return actions.length === 1 ? actions[0] : [...actions];
}

function ecrRead(): PolicyStatement {
  return {
    Sid: 'PullImagesFromEcr',
    Effect: 'Allow',
    Action: grant('pullImages'),
    Resource: '*',
  };
}

/** Session Manager only; AmazonSSMManagedInstanceCore would also allow reading every parameter. */
function sessionManager(): PolicyStatement {
  return {
    Sid: 'SessionManager',
    Effect: 'Allow',
    Action: grant('sessionManager'),
    Resource: '*',
  };
}

/** The stub in user data (node-bootstrap fetch-bundle.py) GETs its role's bundle by version id. */
function readBootstrapBundle(objectArn: string): PolicyDocument {
  return policyDocument({ Sid: 'FetchBootstrapBundle', Effect: 'Allow', Action: grant('fetchBootstrapBundle'), Resource: objectArn });
}

/**
 * Control-plane role: what the static pods and the bootstrap scripts need (kubeadm join material
 * and init lock in SSM, etcd snapshots in the backup bucket, the CI kubeconfig, control-plane
 * membership, its own launching hook). The add-ons that call AWS, the cloud controller included,
 * have workload roles of their own (identity/workload-policies.ts): nothing here is for them,
 * because before the IMDS fence every host-network pod on the node can reach this role.
 */
export function controlPlanePolicies(ctx: NodePolicyContext): Record<string, PolicyDocument> {
  const parameters = `arn:aws:ssm:${ctx.region}:${ctx.accountId}:parameter${ctx.ssmPrefix}/*`;
  const ciKubeconfig = ssmParameterArn(ctx.ciKubeconfigParameter, ctx.region, ctx.accountId);
  const secureStrings = [...ctx.joinParameterArns, ciKubeconfig, ...ctx.operatorSecureStrings.map((name) => ssmParameterArn(name, ctx.region, ctx.accountId))];
  return {
    'join-material': policyDocument(
      // The initialiser creates the join parameters (absent = not published) and every control-plane node refreshes them.
      { Sid: 'PublishJoinMaterial', Effect: 'Allow', Action: grant('publishJoinMaterial'), Resource: [...ctx.joinParameterArns] },
      // Init and refresh locks, the restore marker, the credentials install-addons.sh reads.
      { Sid: 'BootstrapParameters', Effect: 'Allow', Action: grant('bootstrapParameters'), Resource: parameters },
      // Standard SecureStrings are encrypted and decrypted directly under the key, by SSM, with the
      // parameter's ARN as encryption context: the cluster key serves SSM only for these parameters.
      {
        Sid: 'SecureStringsViaSsm',
        Effect: 'Allow',
        Action: grant('secureParameters'),
        Resource: ctx.kmsKeyArn,
        Condition: { StringEquals: { 'kms:ViaService': `ssm.${ctx.region}.amazonaws.com`, 'kms:EncryptionContext:PARAMETER_ARN': secureStrings } },
      },
      // node-bootstrap ci-kubeconfig.sh: named on its own so narrowing the prefix grant above keeps it.
      { Sid: 'PublishCiKubeconfig', Effect: 'Allow', Action: grant('publishCiKubeconfig'), Resource: ciKubeconfig },
      // node-bootstrap control-plane.sh: each node overwrites `<path>/<instance id>` with the IRSA stage
      // it booted with, which the apply's identity-roll gate reads. Only that path; named on its own
      // for the same reason. Workers get nothing here: only control-plane nodes are asked.
      { Sid: 'RecordIdentityStage', Effect: 'Allow', Action: grant('recordIdentityStage'), Resource: `arn:aws:ssm:${ctx.region}:${ctx.accountId}:parameter${ctx.identityStageRecords}/*` },
      // node-bootstrap control-plane.sh: which control-plane instances exist and which their ASG is
      // terminating (their etcd members go before a join), whether a dead initialiser is gone. Named
      // here so the bootstrap keeps them without the add-ons' grants. Neither action supports
      // resource-level permissions.
      { Sid: 'ControlPlaneMembership', Effect: 'Allow', Action: grant('controlPlaneMembership'), Resource: '*' },
      // node-bootstrap control-plane.sh: the initialiser completes its own launching hook before
      // kubeadm init (no handler exists yet). Only groups carrying this cluster's tag.
      {
        Sid: 'CompleteLaunchingHook',
        Effect: 'Allow',
        Action: grant('completeLaunchingHook'),
        Resource: '*',
        Condition: { StringEquals: { [`autoscaling:ResourceTag/${ctx.clusterTagKey}`]: 'owned' } },
      },
    ),
    'etcd-backups': policyDocument(
      { Sid: 'LocateBackups', Effect: 'Allow', Action: grant('locateBackups'), Resource: ctx.backupBucketArn },
      { Sid: 'ListSnapshots', Effect: 'Allow', Action: grant('listSnapshots'), Resource: ctx.backupBucketArn, Condition: { StringLike: { 's3:prefix': `${ctx.etcdSnapshotPrefix}/*` } } },
      // Write-only: an archive holds pki/sa.key and the CA keys, and every host-network pod on the
      // node reaches this role through IMDS, so the role never reads a snapshot back (no GetObject,
      // no kms:Decrypt). A restore downloads through a URL the restore role signs (etcd-restore.ts,
      // node-bootstrap etcd-restore.sh). DeleteObject for the timer's retention: the bucket is
      // versioned and this role gets no DeleteObjectVersion, so a delete leaves a marker and the
      // snapshot stays recoverable for the bucket's retention. Only under the snapshot prefix.
      { Sid: 'WriteSnapshots', Effect: 'Allow', Action: grant('writeSnapshots'), Resource: `${ctx.backupBucketArn}/${ctx.etcdSnapshotPrefix}/*` },
      // SSE-KMS through S3 only, for a single PutObject: S3 asks KMS for a data key (GenerateDataKey)
      // and never decrypts. etcd-snapshot.sh uploads with one PutObject (no multipart, whose
      // completion S3 documents as needing kms:Decrypt too). Never a direct KMS call.
      { Sid: 'EncryptSnapshots', Effect: 'Allow', Action: grant('encryptSnapshots'), Resource: ctx.kmsKeyArn, Condition: { StringEquals: { 'kms:ViaService': `s3.${ctx.region}.amazonaws.com` } } },
    ),
    'etcd-slot': etcdSlotPolicy(ctx),
    'node-access': policyDocument(ecrRead(), sessionManager()),
    'bootstrap-bundle': readBootstrapBundle(ctx.bootstrapBundleArns['control-plane']),
    // node-bootstrap service-account-issuer.sh: every control-plane node writes the discovery
    // document and JWKS at boot; exactly those two keys, nothing to list, read or delete.
    'service-account-issuer': policyDocument({ Sid: 'PublishServiceAccountIssuer', Effect: 'Allow', Action: grant('publishServiceAccountIssuer'), Resource: [...ctx.serviceAccountIssuerObjectArns] }),
  };
}

/**
 * node-bootstrap etcd-slot.sh: a control-plane node attaches its slot's etcd volume and address
 * (ENI) at boot and hands them over when its ASG terminates it (docs/decisions/etcd-volumes.md).
 * Only this cluster's etcd volumes and ENIs (their own tag, which the EBS CSI driver never sets),
 * only onto this cluster's instances; the KMS grant only for EC2 attaching the volume.
 */
function etcdSlotPolicy(ctx: NodePolicyContext) {
  const slotResources = [`arn:aws:ec2:${ctx.region}:${ctx.accountId}:volume/*`, `arn:aws:ec2:${ctx.region}:${ctx.accountId}:network-interface/*`];
  return policyDocument(
    { Sid: 'FindEtcdSlot', Effect: 'Allow', Action: grant('findEtcdSlot'), Resource: '*' },
    {
      Sid: 'AttachEtcdSlot',
      Effect: 'Allow',
      Action: grant('attachEtcdSlot'),
      Resource: slotResources,
      Condition: { StringEquals: { [`aws:ResourceTag/${ctx.etcdSlot.clusterTagKey}`]: ctx.etcdSlot.clusterName } },
    },
    {
      Sid: 'AttachEtcdSlotToClusterNodes',
      Effect: 'Allow',
      Action: grant('attachEtcdSlot'),
      Resource: `arn:aws:ec2:${ctx.region}:${ctx.accountId}:instance/*`,
      Condition: { StringEquals: { [`aws:ResourceTag/${ctx.clusterTagKey}`]: 'owned' } },
    },
    {
      Sid: 'DecryptEtcdVolume',
      Effect: 'Allow',
      Action: grant('grantEtcdVolumeKey'),
      Resource: ctx.kmsKeyArn,
      Condition: { StringEquals: { 'kms:ViaService': `ec2.${ctx.region}.amazonaws.com` }, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    },
  );
}

/** Worker role: read the join token and CA hash (nothing else in SSM), pull from ECR, Session Manager. */
export function workerPolicies(ctx: NodePolicyContext): Record<string, PolicyDocument> {
  return {
    'join-material': policyDocument(
      { Sid: 'ReadJoinMaterial', Effect: 'Allow', Action: grant('readJoinMaterial'), Resource: [...ctx.workerJoinParameterArns] },
      // SecureString decryption names the parameter in the encryption context: only these two.
      {
        Sid: 'DecryptJoinMaterial',
        Effect: 'Allow',
        Action: grant('decryptJoinMaterial'),
        Resource: ctx.kmsKeyArn,
        Condition: { StringEquals: { 'kms:ViaService': `ssm.${ctx.region}.amazonaws.com`, 'kms:EncryptionContext:PARAMETER_ARN': [...ctx.workerJoinParameterArns] } },
      },
    ),
    'node-access': policyDocument(ecrRead(), sessionManager()),
    'bootstrap-bundle': readBootstrapBundle(ctx.bootstrapBundleArns.worker),
  };
}

/**
 * The add-ons' rights the control-plane role keeps until the cluster's identity stage is complete
 * (platform-config `serviceAccountIdentity.nodeRolesKeepAddOnRights`): before the manifests switch
 * to web identity the EBS CSI controller, cluster-autoscaler and the cloud controller run with
 * host networking on this role, and after the switch they stay the fallback (roll the manifests
 * back one stage) until the last stage removes them. The same documents as their workload roles,
 * inline under the names (so construct ids and Terraform addresses) they had before: the cloud
 * controller's `cloud-controller` was one of the role's own policies until it got its identity.
 * The termination handler's fallback is TerminationHandling's `handlerRoleName`, where its policy lived.
 */
export function controlPlaneAddOnFallback(
  identity: ServiceAccountIdentity,
  policies: Pick<WorkloadPolicies, 'ebs-csi-controller' | 'cluster-autoscaler' | 'cloud-controller'>,
): Record<string, PolicyDocument> {
  if (!identity.nodeRolesKeepAddOnRights) return {};
  return { 'cloud-controller': policies['cloud-controller'], 'ebs-csi-controller': policies['ebs-csi-controller'], 'cluster-autoscaler': policies['cluster-autoscaler'] };
}
