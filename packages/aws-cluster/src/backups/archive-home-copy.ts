import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { S3BucketReplicationConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-replication-configuration';
import type { ITerraformDependable, TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { renderPolicy, serviceTrustPolicy } from '../iam/policy-document';
import { invalidProp } from '../private/validation';
import { REPLICATION_TIME_MINUTES } from './backup-bucket';
import { replicationPolicy } from './replication-policy';

export interface ArchiveHomeCopyProps {
  /** The bucket in the standby's region the database writes its archive into (names.appWalArchive). */
  readonly archiveBucketName: string;
  readonly archiveBucketArn: string;
  /** Its key (the replica key). */
  readonly archiveKeyArn: string;
  /** The aws provider (alias) of the standby's region: the replication rule lives on the archive bucket. */
  readonly provider: TerraformProvider;
  /** The cluster's own bucket, in its own region (names.appBackupBucket). */
  readonly homeBucketArn: string;
  /** Its key (the cluster key). */
  readonly homeKeyArn: string;
  /** Key prefix copied, ending in "/" (names.appBackupArchive.bucketPrefix). */
  readonly prefix: string;
  /** Name of the role S3 replicates with (names.backupReplicationRoles.appArchiveHome). */
  readonly replicationRoleName: string;
  /** Both buckets' versioning (BackupBucket.versioning): S3 refuses the rule before it is on. */
  readonly versioning: readonly ITerraformDependable[];
}

/**
 * S3 replication of a failover primary's archive (WAL and base backups, written straight into its
 * bucket in the standby's region) back into its own bucket, under Replication Time Control: an
 * in-region copy for restores (PITR after a bad migration) while the standby's region is down,
 * and for in-region reads otherwise. Only `prefix`: etcd snapshots travel the other way. S3 never
 * replicates a replica again, so this rule and the bucket's own Seoul → Tokyo rule (which carries
 * the archive while the store is moved home, DatabaseStore.ownRegion()) do not loop.
 */
export class ArchiveHomeCopy extends Construct {
  constructor(scope: Construct, id: string, props: ArchiveHomeCopyProps) {
    super(scope, id);
    if (!/^[a-z0-9][a-z0-9._-]*\/$/.test(props.prefix)) throw invalidProp('ArchiveHomeCopy', 'prefix', props.prefix, 'a key prefix ending in "/", such as "postgres/" (never the whole bucket)');
    const role = new IamRole(this, 'role', { name: props.replicationRoleName, assumeRolePolicy: renderPolicy(serviceTrustPolicy('s3.amazonaws.com')) });
    new IamRolePolicy(this, 'policy', {
      name: `replicate-${id}`,
      role: role.name,
      policy: renderPolicy(replicationPolicy({ sourceArn: props.archiveBucketArn, sourceKeyArn: props.archiveKeyArn, destinationArn: props.homeBucketArn, destinationKeyArn: props.homeKeyArn, prefix: props.prefix })),
    });
    const minutes = REPLICATION_TIME_MINUTES;
    new S3BucketReplicationConfigurationA(this, 'replication', {
      provider: props.provider,
      bucket: props.archiveBucketName,
      role: role.arn,
      rule: [
        {
          id: 'archive-home',
          status: 'Enabled',
          priority: 1,
          filter: { prefix: props.prefix },
          deleteMarkerReplication: { status: 'Enabled' },
          sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: 'Enabled' } },
          destination: {
            bucket: props.homeBucketArn,
            storageClass: 'STANDARD',
            encryptionConfiguration: { replicaKmsKeyId: props.homeKeyArn },
            replicationTime: { status: 'Enabled', time: { minutes } },
            metrics: { status: 'Enabled', eventThreshold: { minutes } },
          },
        },
      ],
      dependsOn: [...props.versioning],
    });
  }
}
