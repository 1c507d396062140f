import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { Construct } from 'constructs';
import { policyDocument, renderPolicy, type PolicyDocument } from '../iam/policy-document';
import { invalidProp } from '../private/validation';

export interface SnapshotRestoreRoleProps {
  readonly roleName: string;
  readonly region: string;
  readonly accountId: string;
  readonly bucketArn: string;
  /** Key prefix of the snapshots (platform-config `bootstrapNames`), no trailing slash. */
  readonly snapshotPrefix: string;
  /** The key the snapshots are encrypted with (SSE-KMS). */
  readonly kmsKeyArn: string;
  /**
   * Principals that must never assume the role, whatever their own policies say later: the
   * cluster's node roles, which every host-network pod reaches through IMDS.
   */
  readonly deniedPrincipalArns: readonly string[];
  /**
   * Longest session (IAM MaxSessionDuration): a URL it signs expires with the session at the latest.
   * @default 3600
   */
  readonly maxSessionSeconds?: number;
}

/**
 * The only principal that reads etcd snapshots (an archive holds `pki/sa.key` and the CA keys).
 * A person restoring assumes it for `etcd-restore.sh request`, which signs a short-lived GET URL
 * of the chosen snapshot; the new control-plane node downloads through that URL, so S3 reads and
 * KMS decrypts with this role's permission and the node role stays write-only on the snapshots.
 * Trusted by the account (an operator's own IAM policy must allow sts:AssumeRole on it), never by
 * the node roles.
 */
export class SnapshotRestoreRole extends Construct {
  readonly roleArn: string;
  readonly roleName: string;

  constructor(scope: Construct, id: string, props: SnapshotRestoreRoleProps) {
    super(scope, id);
    if (props.snapshotPrefix === '' || props.snapshotPrefix.startsWith('/') || props.snapshotPrefix.endsWith('/') || /[*?]/.test(props.snapshotPrefix)) {
      throw invalidProp('SnapshotRestoreRole', 'snapshotPrefix', props.snapshotPrefix, 'a key prefix without a leading or trailing "/" or wildcards, such as "etcd-snapshots/production"');
    }
    if (props.deniedPrincipalArns.length === 0) throw invalidProp('SnapshotRestoreRole', 'deniedPrincipalArns', props.deniedPrincipalArns, "at least one principal ARN (the cluster's node roles)");
    const seconds = props.maxSessionSeconds ?? 3600;
    if (!Number.isInteger(seconds) || seconds < 3600 || seconds > 43200) throw invalidProp('SnapshotRestoreRole', 'maxSessionSeconds', seconds, 'a whole number of seconds from 3600 to 43200 (IAM MaxSessionDuration)');
    const role = new IamRole(this, 'role', {
      name: props.roleName,
      description: 'Break-glass etcd restore: reads and decrypts the etcd snapshots (sign a restore URL); no node role may assume it',
      assumeRolePolicy: renderPolicy(restoreTrustPolicy(props.accountId, props.deniedPrincipalArns)),
      maxSessionDuration: seconds,
    });
    new IamRolePolicy(this, 'policy', { name: 'read-etcd-snapshots', role: role.name, policy: renderPolicy(snapshotReadPolicy(props)) });
    this.roleArn = role.arn;
    this.roleName = role.name;
  }
}

/**
 * The account may delegate the role to its operators, never to the node roles: the trust itself
 * excludes them, whatever their own policies say (no `Principal: *` anywhere).
 */
export function restoreTrustPolicy(accountId: string, deniedPrincipalArns: readonly string[]): PolicyDocument {
  return policyDocument({
    Sid: 'AccountOperatorsNeverTheNodes',
    Effect: 'Allow',
    Principal: { AWS: `arn:aws:iam::${accountId}:root` },
    Action: 'sts:AssumeRole',
    Condition: { ArnNotLike: { 'aws:PrincipalArn': [...deniedPrincipalArns] } },
  });
}

/** List, read and (through S3) decrypt the snapshots under the prefix; nothing else. */
export function snapshotReadPolicy(props: Pick<SnapshotRestoreRoleProps, 'region' | 'bucketArn' | 'snapshotPrefix' | 'kmsKeyArn'>): PolicyDocument {
  return policyDocument(
    { Sid: 'ListSnapshots', Effect: 'Allow', Action: 's3:ListBucket', Resource: props.bucketArn, Condition: { StringLike: { 's3:prefix': `${props.snapshotPrefix}/*` } } },
    { Sid: 'ReadSnapshots', Effect: 'Allow', Action: 's3:GetObject', Resource: `${props.bucketArn}/${props.snapshotPrefix}/*` },
    // S3 decrypts an SSE-KMS object with the requester's permission: here, whoever holds a URL this role signed.
    { Sid: 'DecryptSnapshots', Effect: 'Allow', Action: 'kms:Decrypt', Resource: props.kmsKeyArn, Condition: { StringEquals: { 'kms:ViaService': `s3.${props.region}.amazonaws.com` } } },
  );
}
