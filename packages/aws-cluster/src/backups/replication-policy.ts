import { policyDocument } from '../iam/policy-document';

/** What S3 replication's role needs to copy objects below `prefix` of one bucket into another, each with its own KMS key. */
export function replicationPolicy(p: { readonly sourceArn: string; readonly sourceKeyArn: string; readonly destinationArn: string; readonly destinationKeyArn: string; readonly prefix?: string }) {
  const keys = p.prefix ?? '';
  return policyDocument(
    { Sid: 'ReadSourceConfiguration', Effect: 'Allow', Action: ['s3:GetReplicationConfiguration', 's3:ListBucket'], Resource: p.sourceArn },
    { Sid: 'ReadSourceVersions', Effect: 'Allow', Action: ['s3:GetObjectVersionForReplication', 's3:GetObjectVersionAcl', 's3:GetObjectVersionTagging'], Resource: `${p.sourceArn}/${keys}*` },
    { Sid: 'WriteReplica', Effect: 'Allow', Action: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'], Resource: `${p.destinationArn}/${keys}*` },
    { Sid: 'DecryptSource', Effect: 'Allow', Action: 'kms:Decrypt', Resource: p.sourceKeyArn },
    { Sid: 'EncryptReplica', Effect: 'Allow', Action: ['kms:Encrypt', 'kms:GenerateDataKey'], Resource: p.destinationKeyArn },
  );
}
