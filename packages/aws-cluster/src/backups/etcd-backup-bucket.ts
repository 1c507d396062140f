import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketReplicationConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-replication-configuration';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { S3BucketVersioningA } from '@cdktf/provider-aws/lib/s3-bucket-versioning';
import type { TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { policyDocument, renderPolicy, serviceTrustPolicy } from '../iam/policy-document';
import { invalidProp } from '../private/validation';

export interface BackupReplica {
  readonly bucketName: string;
  /** The aws provider (alias) of the replica region: the replica bucket and its key live there. */
  readonly provider: TerraformProvider;
  /** Name of the role S3 replicates with. */
  readonly replicationRoleName: string;
}

export interface EtcdBackupBucketProps {
  readonly bucketName: string;
  readonly kmsKeyArn: string;
  /** Days snapshots (and their old versions) are kept. */
  readonly retentionDays: number;
  /** Cross-region copy for regional disaster recovery. @default - no replication */
  readonly replica?: BackupReplica;
}

interface ProtectedBucket {
  readonly arn: string;
  readonly name: string;
  readonly versioning: S3BucketVersioningA;
}

/**
 * Where etcd snapshots go: versioned, KMS-encrypted, public access blocked, TLS only,
 * expired after the retention, replicated to the DR region, and protected from destroy.
 */
export class EtcdBackupBucket extends Construct {
  readonly bucketName: string;
  readonly bucketArn: string;
  readonly replicaBucketName: string | undefined;
  readonly replicaBucketArn: string | undefined;

  constructor(scope: Construct, id: string, props: EtcdBackupBucketProps) {
    super(scope, id);
    if (!Number.isInteger(props.retentionDays) || props.retentionDays < 1) throw invalidProp('EtcdBackupBucket', 'retentionDays', props.retentionDays, 'a whole number of days, at least 1');
    if (props.replica && props.replica.bucketName === props.bucketName) {
      throw invalidProp('EtcdBackupBucket', 'replica.bucketName', props.replica.bucketName, 'a bucket other than the source (S3 names are global)');
    }
    const source = this.protectedBucket('bucket', props.bucketName, props.kmsKeyArn, props.retentionDays);
    this.bucketName = source.name;
    this.bucketArn = source.arn;
    if (!props.replica) return;

    const { provider } = props.replica;
    const replicaKey = new KmsKey(this, 'replica-key', { provider, description: `etcd snapshots replicated from ${props.bucketName}`, enableKeyRotation: true, deletionWindowInDays: 30, lifecycle: { preventDestroy: true } });
    const replica = this.protectedBucket('replica', props.replica.bucketName, replicaKey.arn, props.retentionDays, provider);
    const role = new IamRole(this, 'replication-role', { name: props.replica.replicationRoleName, assumeRolePolicy: renderPolicy(serviceTrustPolicy('s3.amazonaws.com')) });
    new IamRolePolicy(this, 'replication-policy', {
      name: 'replicate-etcd-backups',
      role: role.name,
      policy: renderPolicy(
        policyDocument(
          { Sid: 'ReadSourceConfiguration', Effect: 'Allow', Action: ['s3:GetReplicationConfiguration', 's3:ListBucket'], Resource: source.arn },
          { Sid: 'ReadSourceVersions', Effect: 'Allow', Action: ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'], Resource: `${source.arn}/*` },
          { Sid: 'WriteReplica', Effect: 'Allow', Action: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'], Resource: `${replica.arn}/*` },
          { Sid: 'DecryptSource', Effect: 'Allow', Action: 'kms:Decrypt', Resource: props.kmsKeyArn },
          { Sid: 'EncryptReplica', Effect: 'Allow', Action: ['kms:Encrypt', 'kms:GenerateDataKey'], Resource: replicaKey.arn },
        ),
      ),
    });
    new S3BucketReplicationConfigurationA(this, 'replication', {
      bucket: source.name,
      role: role.arn,
      rule: [
        {
          id: 'to-dr-region',
          status: 'Enabled',
          priority: 1,
          filter: {},
          deleteMarkerReplication: { status: 'Enabled' },
          sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: 'Enabled' } },
          destination: { bucket: replica.arn, storageClass: 'STANDARD', encryptionConfiguration: { replicaKmsKeyId: replicaKey.arn } },
        },
      ],
      dependsOn: [source.versioning, replica.versioning],
    });
    this.replicaBucketName = replica.name;
    this.replicaBucketArn = replica.arn;
  }

  private protectedBucket(id: string, bucketName: string, kmsKeyArn: string, retentionDays: number, provider?: TerraformProvider): ProtectedBucket {
    const bucket = new S3Bucket(this, id, { provider, bucket: bucketName, lifecycle: { preventDestroy: true } });
    const versioning = new S3BucketVersioningA(this, `${id}-versioning`, { provider, bucket: bucket.id, versioningConfiguration: { status: 'Enabled' } });
    new S3BucketServerSideEncryptionConfigurationA(this, `${id}-encryption`, {
      provider,
      bucket: bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: kmsKeyArn }, bucketKeyEnabled: true }],
    });
    new S3BucketPublicAccessBlock(this, `${id}-public-access`, { provider, bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    new S3BucketOwnershipControls(this, `${id}-ownership`, { provider, bucket: bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } });
    new S3BucketLifecycleConfiguration(this, `${id}-lifecycle`, {
      provider,
      bucket: bucket.id,
      rule: [
        {
          id: 'expire-snapshots',
          status: 'Enabled',
          filter: [{ prefix: '' }],
          expiration: [{ days: retentionDays }],
          noncurrentVersionExpiration: [{ noncurrentDays: retentionDays }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }],
        },
      ],
      dependsOn: [versioning],
    });
    new S3BucketPolicy(this, `${id}-policy`, {
      provider,
      bucket: bucket.id,
      policy: renderPolicy(
        policyDocument({
          Sid: 'TlsOnly',
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 's3:*',
          Resource: [bucket.arn, `${bucket.arn}/*`],
          Condition: { Bool: { 'aws:SecureTransport': false } },
        }),
      ),
    });
    return { arn: bucket.arn, name: bucketName, versioning };
  }
}
