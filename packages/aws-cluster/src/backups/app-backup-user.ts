import { IamUser } from '@cdktf/provider-aws/lib/iam-user';
import { IamUserPolicy } from '@cdktf/provider-aws/lib/iam-user-policy';
import { Construct } from 'constructs';
import { policyDocument, renderPolicy, type PolicyDocument, type PolicyStatement } from '../iam/policy-document';
import { invalidProp } from '../private/validation';

/** A bucket in another stack that a restore reads, named rather than referenced (stacks apply separately). */
export interface RestoreSource {
  readonly bucketName: string;
  /** Its region: KMS is used through that region's S3 endpoint. */
  readonly region: string;
}

export interface AppBackupUserProps {
  readonly userName: string;
  /** The cluster's own app backup bucket (read and write below `prefix`). */
  readonly bucketArn: string;
  /** Key prefix the user may touch, ending in "/" (e.g. "postgres/"). */
  readonly prefix: string;
  /** The key the bucket encrypts with (the cluster key). */
  readonly kmsKeyArn: string;
  readonly region: string;
  readonly accountId: string;
  /**
   * Buckets a restore reads, read-only below `prefix`: the standby reads its primary's replica
   * bucket when promoted, the primary reads the standby's bucket when failing back. @default []
   */
  readonly restoreSources?: readonly RestoreSource[];
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * The IAM user database pods use for the app backup bucket. Pods cannot use the node role
 * (IMDS hop limit 1), so until service-account web identity exists the credentials are an access
 * key a person creates into SSM (docs/runbooks/app-backup-credentials.md): Terraform never
 * creates one, so no secret ever reaches the state.
 */
export class AppBackupUser extends Construct {
  readonly userName: string;
  readonly userArn: string;
  /** The inline policy, as a typed document (tests read it). */
  readonly policy: PolicyDocument;

  constructor(scope: Construct, id: string, props: AppBackupUserProps) {
    super(scope, id);
    if (!/^[A-Za-z0-9+=,.@_-]{1,64}$/.test(props.userName)) throw invalidProp('AppBackupUser', 'userName', props.userName, 'an IAM user name: 1 to 64 letters, digits or +=,.@_-');
    if (!/^[a-z0-9][a-z0-9._-]*\/$/.test(props.prefix)) throw invalidProp('AppBackupUser', 'prefix', props.prefix, 'a key prefix ending in "/", such as "postgres/" (never the whole bucket)');
    (props.restoreSources ?? []).forEach((source, i) => {
      if (!BUCKET_NAME.test(source.bucketName)) throw invalidProp('AppBackupUser', `restoreSources[${i}].bucketName`, source.bucketName, 'an S3 bucket name');
    });

    const user = new IamUser(this, 'user', { name: props.userName });
    this.policy = policyDocument(...ownBucket(props), ...(props.restoreSources ?? []).flatMap((source, i) => restoreSource(props, source, i)));
    new IamUserPolicy(this, 'policy', { name: 'app-backups', user: user.name, policy: renderPolicy(this.policy) });
    this.userName = user.name;
    this.userArn = user.arn;
  }
}

function ownBucket(props: AppBackupUserProps): PolicyStatement[] {
  return [
    // barman-cloud checks the bucket with HeadBucket, which needs s3:ListBucket with no prefix
    // condition; listing shows key names only, objects stay limited to the prefix.
    { Sid: 'ListBackupBucket', Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetBucketLocation'], Resource: props.bucketArn },
    { Sid: 'ReadWriteBackups', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'], Resource: `${props.bucketArn}/${props.prefix}*` },
    // Only through S3 in its region: the same key encrypts the join material in SSM.
    {
      Sid: 'UseClusterKeyThroughS3',
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: props.kmsKeyArn,
      Condition: { StringEquals: { 'kms:ViaService': `s3.${props.region}.amazonaws.com` } },
    },
  ];
}

/**
 * Read-only on another stack's bucket. Its objects are encrypted with a key of that stack (a
 * replica holds the replica-region key, not the source's), whose ARN this stack cannot know: the
 * grant is any key of the account in that region, used by S3 there for this bucket's objects
 * only (S3 puts the bucket ARN, or with bucket keys off the object ARN, in the encryption context).
 */
function restoreSource(props: AppBackupUserProps, source: RestoreSource, index: number): PolicyStatement[] {
  const arn = `arn:aws:s3:::${source.bucketName}`;
  const n = index + 1;
  return [
    { Sid: `ListRestoreSource${n}`, Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetBucketLocation'], Resource: arn },
    { Sid: `ReadRestoreSource${n}`, Effect: 'Allow', Action: 's3:GetObject', Resource: `${arn}/${props.prefix}*` },
    {
      Sid: `DecryptRestoreSource${n}`,
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: `arn:aws:kms:${source.region}:${props.accountId}:key/*`,
      Condition: {
        StringEquals: { 'kms:ViaService': `s3.${source.region}.amazonaws.com` },
        StringLike: { 'kms:EncryptionContext:aws:s3:arn': [arn, `${arn}/*`] },
      },
    },
  ];
}
