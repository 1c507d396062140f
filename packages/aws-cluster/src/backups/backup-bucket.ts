import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { S3_REPLICATION_BOUND_SECONDS } from '@platform/platform-config';
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
import type { ITerraformDependable, TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { policyDocument, renderPolicy, serviceTrustPolicy } from '../iam/policy-document';
import { invalidProp } from '../private/validation';
import { replicationPolicy } from './replication-policy';

export interface BackupReplica {
  readonly bucketName: string;
  /** The aws provider (alias) of the replica region: the replica bucket and its key live there. */
  readonly provider: TerraformProvider;
  /** Name of the role S3 replicates with. */
  readonly replicationRoleName: string;
  /**
   * A role that writes into the replica bucket directly (a failover primary's database archiving
   * its WAL into the standby's region): below `prefix` only it may put or delete objects, and
   * only it and S3 replication may encrypt with the replica key.
   * @default - none: the replica is written by S3 replication alone
   */
  readonly directWriter?: ReplicaWriter;
}

/** See BackupReplica.directWriter. ARNs are derived (platform-config), never cross-stack references. */
export interface ReplicaWriter {
  /**
   * The writer's IAM principals: its role, and before a cluster's web-identity stage the legacy
   * backup user whose keys the database still uses.
   */
  readonly principalArns: readonly string[];
  /** Key prefix it writes, ending in "/" (platform-config appBackupArchive.bucketPrefix). */
  readonly prefix: string;
  /** The account the key belongs to: its key policy keeps the account's administration. */
  readonly accountId: string;
}

export interface BackupBucketProps {
  readonly bucketName: string;
  readonly kmsKeyArn: string;
  /** Days old versions (what the writer deleted or overwrote) are kept. */
  readonly retentionDays: number;
  /** What the bucket holds, for descriptions ("etcd snapshots"). */
  readonly contents: string;
  /** Id of the lifecycle rule. @default 'expire-backups' */
  readonly expirationRuleId?: string;
  /** Cross-region copy for regional disaster recovery. @default - no replication */
  readonly replica?: BackupReplica;
}

interface Expiration {
  readonly ruleId: string;
  readonly retentionDays: number;
}

interface ProtectedBucket {
  readonly arn: string;
  readonly name: string;
  readonly versioning: S3BucketVersioningA;
}

/**
 * S3 Replication Time Control's bound (the only value S3 accepts): 99.99 % of objects replicate
 * within it, and the metrics report each object that takes longer. Without it replication has no
 * time bound, and the regional RPO (ha-check: snapshot interval + 15 min) is not guaranteed.
 */
export const REPLICATION_TIME_MINUTES = S3_REPLICATION_BOUND_SECONDS / 60;

/**
 * A backup bucket: versioned, KMS-encrypted, public access blocked, TLS only, old versions expired
 * after the retention (current objects are the writer's to prune), replicated to the DR region with a key of that region under Replication Time Control,
 * and protected from destroy.
 * The construct id names the replication policy (`replicate-<id>`); child ids are Terraform
 * addresses, so they stay as they are (etcd's bucket was deployed before this was generalised).
 */
export class BackupBucket extends Construct {
  readonly bucketName: string;
  readonly bucketArn: string;
  readonly replicaBucketName: string | undefined;
  readonly replicaBucketArn: string | undefined;
  /** The replica region's key the replicas are encrypted with. */
  readonly replicaKeyArn: string | undefined;
  /** The versioning of the bucket and of its replica: S3 refuses a replication rule before both are on. */
  readonly versioning: ITerraformDependable[] = [];

  constructor(scope: Construct, id: string, props: BackupBucketProps) {
    super(scope, id);
    if (!Number.isInteger(props.retentionDays) || props.retentionDays < 1) throw invalidProp('BackupBucket', 'retentionDays', props.retentionDays, 'a whole number of days, at least 1');
    if (props.contents.trim() === '') throw invalidProp('BackupBucket', 'contents', props.contents, 'a short description of what the bucket holds, such as "etcd snapshots"');
    if (props.replica && props.replica.bucketName === props.bucketName) {
      throw invalidProp('BackupBucket', 'replica.bucketName', props.replica.bucketName, 'a bucket other than the source (S3 names are global)');
    }
    const writer = props.replica?.directWriter;
    if (writer && writer.principalArns.length === 0) throw invalidProp('BackupBucket', 'replica.directWriter.principalArns', writer.principalArns, 'at least one IAM role or user ARN (the writer)');
    if (writer && !/^[a-z0-9][a-z0-9._-]*\/$/.test(writer.prefix)) {
      throw invalidProp('BackupBucket', 'replica.directWriter.prefix', writer.prefix, 'a key prefix ending in "/", such as "postgres/" (never the whole bucket)');
    }
    const expiration = { ruleId: props.expirationRuleId ?? 'expire-backups', retentionDays: props.retentionDays };
    const source = this.protectedBucket('bucket', props.bucketName, props.kmsKeyArn, expiration);
    this.bucketName = source.name;
    this.bucketArn = source.arn;
    this.versioning.push(source.versioning);
    if (!props.replica) return;

    const { provider, replicationRoleName } = props.replica;
    const replicationRoleArn = writer ? `arn:aws:iam::${writer.accountId}:role/${replicationRoleName}` : undefined;
    const replicaKey = new KmsKey(this, 'replica-key', {
      provider,
      description: `${props.contents} replicated from ${props.bucketName}`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      lifecycle: { preventDestroy: true },
      policy: writer && replicationRoleArn ? renderPolicy(replicaKeyPolicy(writer, replicationRoleArn)) : undefined,
    });
    const replica = this.protectedBucket('replica', props.replica.bucketName, replicaKey.arn, expiration, provider, writer);
    const role = new IamRole(this, 'replication-role', { name: replicationRoleName, assumeRolePolicy: renderPolicy(serviceTrustPolicy('s3.amazonaws.com')) });
    new IamRolePolicy(this, 'replication-policy', {
      name: `replicate-${id}`,
      role: role.name,
      policy: renderPolicy(replicationPolicy({ sourceArn: source.arn, sourceKeyArn: props.kmsKeyArn, destinationArn: replica.arn, destinationKeyArn: replicaKey.arn })),
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
          destination: {
            bucket: replica.arn,
            storageClass: 'STANDARD',
            encryptionConfiguration: { replicaKmsKeyId: replicaKey.arn },
            // Replication Time Control needs the metrics on as well.
            replicationTime: { status: 'Enabled', time: { minutes: REPLICATION_TIME_MINUTES } },
            metrics: { status: 'Enabled', eventThreshold: { minutes: REPLICATION_TIME_MINUTES } },
          },
        },
      ],
      dependsOn: [source.versioning, replica.versioning],
    });
    this.replicaBucketName = replica.name;
    this.replicaBucketArn = replica.arn;
    this.replicaKeyArn = replicaKey.arn;
    this.versioning.push(replica.versioning);
  }

  private protectedBucket(id: string, bucketName: string, kmsKeyArn: string, expiration: Expiration, provider?: TerraformProvider, writer?: ReplicaWriter): ProtectedBucket {
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
          id: expiration.ruleId,
          status: 'Enabled',
          filter: [{ prefix: '' }],
          // Current objects never expire by age: every writer prunes its own backups and keeps the
          // newest ones (etcd-snapshot.sh: the newest SNAPSHOT_KEEP_MIN whatever their age; barman:
          // its recovery window). An age rule would empty the bucket once the writer had stopped
          // for longer than the retention, the moment the backups are needed. What the writer
          // deletes becomes a noncurrent version, kept `retentionDays`; the lone delete marker left
          // after that is removed.
          expiration: [{ expiredObjectDeleteMarker: true }],
          noncurrentVersionExpiration: [{ noncurrentDays: expiration.retentionDays }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }],
        },
      ],
      dependsOn: [versioning],
    });
    new S3BucketPolicy(this, `${id}-policy`, {
      provider,
      bucket: bucket.id,
      policy: renderPolicy(
        policyDocument(
          {
            Sid: 'TlsOnly',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 's3:*',
            Resource: [bucket.arn, `${bucket.arn}/*`],
            Condition: { Bool: { 'aws:SecureTransport': false } },
          },
          // The direct writer's prefix is its alone: a reader (the standby's role) or anyone else
          // of the account cannot overwrite or delete the archive. S3 replication uses
          // s3:ReplicateObject/ReplicateDelete, not these actions.
          ...(writer
            ? [
                {
                  Sid: 'OnlyTheArchiveWriterWrites',
                  Effect: 'Deny' as const,
                  Principal: { AWS: '*' },
                  Action: ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion', 's3:AbortMultipartUpload'],
                  Resource: `${bucket.arn}/${writer.prefix}*`,
                  Condition: { ArnNotLike: { 'aws:PrincipalArn': writer.principalArns } },
                },
              ]
            : []),
        ),
      ),
    });
    return { arn: bucket.arn, name: bucketName, versioning };
  }
}

/**
 * The replica key's policy when a role writes the replica directly: the account administers the
 * key and grants its use through IAM (the default policy's statement, so readers such as the
 * standby's role decrypt through their own policies), and nobody but the writer and S3
 * replication's role may encrypt with it: S3 asks KMS for a data key as the caller of PutObject
 * (or of the replication), so a Deny on `aws:PrincipalArn` is what "only that role writes" means
 * for the key. The ARNs are conditions, not principals: a policy naming a role that does not
 * exist yet is rejected, a condition is not.
 */
function replicaKeyPolicy(writer: ReplicaWriter, replicationRoleArn: string) {
  return policyDocument(
    { Sid: 'AccountAdministersTheKey', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${writer.accountId}:root` }, Action: 'kms:*', Resource: '*' },
    {
      Sid: 'OnlyTheArchiveWriterAndReplicationEncrypt',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptTo'],
      Resource: '*',
      Condition: { ArnNotLike: { 'aws:PrincipalArn': [...writer.principalArns, replicationRoleArn] } },
    },
  );
}
