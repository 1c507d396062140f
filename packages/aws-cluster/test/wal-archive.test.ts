import { workloadIdentity } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { BackupBucket } from '../src';
import { evaluateResourcePolicy, type PolicyRequest } from './resource-policy-model';
import { bareStack, platform, Synth, synthCluster, type Attributes } from './support';

/**
 * Production's database archives straight into its bucket in the standby's region
 * (platform-config names.appWalArchive). Who may write there is decided the way AWS decides a
 * same-account request: S3 allows when the caller's identity policy or the bucket policy allows
 * and neither denies; KMS allows only through the key policy, which may delegate to IAM
 * (an Allow for the account root), and an explicit Deny in either always wins.
 */
const ACCOUNT = '111122223333';
const shipped = platform();
const stacks = { production: synthCluster(shipped, 'production'), dr: synthCluster(shipped, 'dr') };
const names = shipped.namesOf('production');
const archiveBucket = names.appWalArchive.bucket;
const archiveArn = `arn:aws:s3:::${archiveBucket}`;
const prefix = names.appBackupArchive.bucketPrefix;

/** Terraform references and the derived account id → the ARNs AWS would see. */
function resolve(synth: Synth, text: string): string {
  return text
    .replaceAll('${local.account_id}', ACCOUNT)
    .replace(/\$\{aws_s3_bucket\.([^.}]+)\.arn\}/g, (_, id) => `arn:aws:s3:::${synth.json.resource.aws_s3_bucket[id].bucket}`)
    .replace(/\$\{aws_kms_key\.([^.}]+)\.arn\}/g, (_, id) => `arn:aws:kms:${regionOf(synth, synth.json.resource.aws_kms_key[id].provider)}:${ACCOUNT}:key/${id}`);
}
/** The region of a provider reference (`aws.replica`), the default provider's without one. */
function regionOf(synth: Synth, provider: string | undefined): string {
  return (synth.json.provider.aws as Attributes[]).find((p) => (provider ? `aws.${p.alias}` === provider : p.alias === undefined))?.region;
}
const policyOf = (synth: Synth, text: string): Attributes => JSON.parse(resolve(synth, text));

function identityPolicy(cluster: 'production' | 'dr'): Attributes {
  const synth = stacks[cluster];
  const name = workloadIdentity(shipped.namesOf(cluster), 'postgres-backups').roleName;
  const [id] = synth.resources('aws_iam_role').find(([, r]) => r.name === name) as [string, Attributes];
  const statements = synth
    .values('aws_iam_role_policy')
    .filter((p) => p.role === `\${aws_iam_role.${id}.name}`)
    .flatMap((p) => policyOf(synth, p.policy).Statement as Attributes[]);
  // Identity policies name no principal: they apply to their holder.
  return { Statement: statements.map((s) => ({ ...s, Principal: '*' })) };
}

const [bucketId] = stacks.production.resources('aws_s3_bucket').find(([, b]) => b.bucket === archiveBucket) as [string, Attributes];
const bucketPolicy = policyOf(stacks.production, (stacks.production.values('aws_s3_bucket_policy').find((p) => p.bucket === `\${aws_s3_bucket.${bucketId}.id}`) as Attributes).policy);
const [keyId, key] = stacks.production.resources('aws_kms_key').find(([, k]) => k.description === `PostgreSQL backups replicated from ${names.appBackupBucket}`) as [string, Attributes];
const keyArn = `arn:aws:kms:${names.appWalArchive.region}:${ACCOUNT}:key/${keyId}`;
const keyPolicy = policyOf(stacks.production, key.policy);

const roleArn = (cluster: string) => workloadIdentity(shipped.namesOf(cluster), 'postgres-backups').roleArn(ACCOUNT);
const callers = {
  production: { arn: roleArn('production'), identity: identityPolicy('production') },
  dr: { arn: roleArn('dr'), identity: identityPolicy('dr') },
};
type Caller = keyof typeof callers;

function request(caller: Caller, action: string, resource: string, context: Record<string, string> = {}): PolicyRequest {
  const arn = callers[caller].arn;
  return { principal: { AWS: arn }, action, resource, context: { 'aws:PrincipalArn': arn, 'aws:SecureTransport': 'true', ...context } };
}

function s3(caller: Caller, action: string, key: string): 'allowed' | 'denied' {
  const resource = key === '' ? archiveArn : `${archiveArn}/${key}`;
  const decisions = [evaluateResourcePolicy(callers[caller].identity, request(caller, action, resource)), evaluateResourcePolicy(bucketPolicy, request(caller, action, resource))];
  return !decisions.includes('explicit-deny') && decisions.includes('allowed') ? 'allowed' : 'denied';
}

function kms(caller: Caller, action: string): 'allowed' | 'denied' {
  // S3 with bucket keys puts the bucket's ARN in the encryption context.
  const req = request(caller, action, keyArn, { 'kms:ViaService': `s3.${names.appWalArchive.region}.amazonaws.com`, 'kms:EncryptionContext:aws:s3:arn': archiveArn });
  const byKey = evaluateResourcePolicy(keyPolicy, req);
  const byIdentity = evaluateResourcePolicy(callers[caller].identity, req);
  if (byKey === 'explicit-deny' || byIdentity === 'explicit-deny') return 'denied';
  // The key policy's Allow for the account root delegates to IAM: the identity policy must allow too.
  const delegates = evaluateResourcePolicy(keyPolicy, { ...req, principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } }) === 'allowed';
  return byKey === 'allowed' || (delegates && byIdentity === 'allowed') ? 'allowed' : 'denied';
}

describe('the primary database archives into its bucket in the standby region', () => {
  it('is the replica bucket production\'s stack already owns in dr\'s region (no cross-stack reference)', () => {
    expect(names.appWalArchive).toEqual({ bucket: names.appBackupReplicaBucket, region: shipped.cluster('dr').region });
    expect(stacks.production.json.resource.aws_s3_bucket[bucketId].provider).toBe('aws.replica');
    expect(stacks.dr.values('aws_s3_bucket').map((b) => b.bucket)).not.toContain(archiveBucket);
  });

  it('lets production\'s database role write, read and prune its archive, and encrypt with the standby-region key', () => {
    for (const action of ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:AbortMultipartUpload']) expect(s3('production', action, `${prefix}orders/production-orders/wals/0000000100000000/000000010000000000000001.gz`)).toBe('allowed');
    expect(s3('production', 's3:ListBucket', '')).toBe('allowed');
    expect(kms('production', 'kms:GenerateDataKey')).toBe('allowed');
    expect(kms('production', 'kms:Decrypt')).toBe('allowed');
    // Only below the archive prefix.
    expect(s3('production', 's3:PutObject', 'etcd/snapshot.db')).toBe('denied');
  });

  it('keeps the standby a reader: dr\'s role reads and decrypts the archive, and can neither write, delete nor encrypt, even with an IAM grant', () => {
    const segment = `${prefix}orders/production-orders/wals/0000000100000000/000000010000000000000001.gz`;
    expect(s3('dr', 's3:GetObject', segment)).toBe('allowed');
    expect(kms('dr', 'kms:Decrypt')).toBe('allowed');
    for (const action of ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion', 's3:AbortMultipartUpload']) expect(s3('dr', action, segment)).toBe('denied');
    expect(kms('dr', 'kms:GenerateDataKey')).toBe('denied');
    // The bucket policy and the key policy deny any writer but production's role, whatever IAM grants.
    const granted = { Statement: [{ Effect: 'Allow', Principal: '*', Action: ['s3:*', 'kms:*'], Resource: '*' }] };
    const withGrant = { ...callers.dr, identity: granted };
    const saved = callers.dr;
    callers.dr = withGrant;
    try {
      expect(s3('dr', 's3:PutObject', segment)).toBe('denied');
      expect(kms('dr', 'kms:GenerateDataKey')).toBe('denied');
      expect(s3('dr', 's3:GetObject', segment)).toBe('allowed');
    } finally {
      callers.dr = saved;
    }
  });

  it('admits exactly the writer and S3 replication to encrypt with the key, and names them by derived ARN (no principal that must exist first)', () => {
    const deny = keyPolicy.Statement.find((s: Attributes) => s.Effect === 'Deny');
    expect(deny.Condition.ArnNotLike['aws:PrincipalArn']).toEqual([roleArn('production'), `arn:aws:iam::${ACCOUNT}:role/${names.backupReplicationRoles.app}`]);
    const writes = bucketPolicy.Statement.find((s: Attributes) => s.Sid === 'OnlyTheArchiveWriterWrites');
    expect(writes.Condition.ArnNotLike['aws:PrincipalArn']).toEqual([roleArn('production')]);
    expect(writes.Resource).toBe(`${archiveArn}/${prefix}*`);
    // Replication still writes the replica (its own actions), and the etcd replica key keeps the default policy.
    expect(evaluateResourcePolicy(bucketPolicy, { principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/${names.backupReplicationRoles.app}` }, action: 's3:ReplicateObject', resource: `${archiveArn}/${prefix}x`, context: { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/${names.backupReplicationRoles.app}`, 'aws:SecureTransport': 'true' } })).not.toBe('explicit-deny');
    expect(stacks.production.values('aws_kms_key').find((k) => k.description === `etcd snapshots replicated from ${names.etcdBackupBucket}`)?.policy).toBeUndefined();
  });

  it('gives no other cluster a direct writer: dr and staging archive in their own region', () => {
    for (const cluster of ['dr', 'staging']) {
      const n = shipped.namesOf(cluster);
      expect(n.appWalArchive.bucket).toBe(n.appBackupBucket);
    }
    const drNames = shipped.namesOf('dr');
    expect(stacks.dr.values('aws_kms_key').find((k) => k.description === `PostgreSQL backups replicated from ${drNames.appBackupBucket}`)?.policy).toBeUndefined();
  });

  it('rejects a direct writer without a principal or with a prefix that is not one, before creating anything', () => {
    const attempt = (directWriter: { principalArns: string[]; prefix: string }) => () => {
      const stack = bareStack();
      new BackupBucket(stack, 'b', { bucketName: 'a-b', kmsKeyArn: 'k', retentionDays: 1, contents: 'x', replica: { bucketName: 'a-c', provider: stack.node.children[0] as never, replicationRoleName: 'r', directWriter: { ...directWriter, accountId: ACCOUNT } } });
    };
    expect(attempt({ principalArns: [], prefix: 'postgres/' })).toThrow('BackupBucket: props.replica.directWriter.principalArns = []; expected at least one IAM role or user ARN (the writer)');
    expect(attempt({ principalArns: ['arn:aws:iam::1:role/x'], prefix: 'postgres' })).toThrow('BackupBucket: props.replica.directWriter.prefix = "postgres"; expected a key prefix ending in "/", such as "postgres/" (never the whole bucket)');
  });
});

describe("the archive is copied back into production's own region (restores while the standby region is down)", () => {
  const synth = stacks.production;
  const homeArn = `arn:aws:s3:::${names.appBackupBucket}`;
  const [, rule] = synth.resources('aws_s3_bucket_replication_configuration').find(([, r]) => r.bucket === archiveBucket) as [string, Attributes];
  const replicationArn = `arn:aws:iam::${ACCOUNT}:role/${names.backupReplicationRoles.appArchiveHome}`;
  const [roleId] = synth.resources('aws_iam_role').find(([, r]) => r.name === names.backupReplicationRoles.appArchiveHome) as [string, Attributes];
  const identity = { Statement: synth.values('aws_iam_role_policy').filter((p) => p.role === `\${aws_iam_role.${roleId}.name}`).flatMap((p) => policyOf(synth, p.policy).Statement as Attributes[]).map((s) => ({ ...s, Principal: '*' })) };
  const asReplication = (action: string, resource: string, context: Record<string, string> = {}): PolicyRequest => ({ principal: { AWS: replicationArn }, action, resource, context: { 'aws:PrincipalArn': replicationArn, 'aws:SecureTransport': 'true', ...context } });

  it('replicates only postgres/ of the Tokyo bucket into the Seoul bucket under RTC, from the standby region (aws.replica)', () => {
    expect(rule.provider).toBe('aws.replica');
    expect(rule.rule).toHaveLength(1);
    expect(rule.rule[0]).toMatchObject({ filter: { prefix }, status: 'Enabled', destination: { bucket: expect.stringContaining('aws_s3_bucket.'), replication_time: { status: 'Enabled', time: { minutes: 15 } } } });
    expect(resolve(synth, rule.rule[0].destination.bucket)).toBe(homeArn);
    expect(rule.depends_on.length).toBe(2);
    // Seoul → Tokyo stays (it carries the archive while the store is moved home): S3 never replicates a replica again.
    const back = synth.values('aws_s3_bucket_replication_configuration').find((r) => typeof r.bucket === 'string' && r.bucket === names.appBackupBucket);
    expect(back?.rule[0].filter).toEqual({});
  });

  it('lets the replication role read the archive, decrypt with the Tokyo key (not denied by its writer-only policy) and write Seoul with the cluster key', () => {
    const segment = `${prefix}orders/orders/wals/0000000100000000/000000010000000000000001.gz`;
    expect(evaluateResourcePolicy(identity, asReplication('s3:GetObjectVersionForReplication', `${archiveArn}/${segment}`))).toBe('allowed');
    expect(evaluateResourcePolicy(identity, asReplication('s3:ReplicateObject', `${homeArn}/${segment}`))).toBe('allowed');
    expect(evaluateResourcePolicy(identity, asReplication('s3:ReplicateObject', `${homeArn}/etcd/snapshot.db`))).toBe('implicit-deny');
    // The Tokyo key denies encryption to all but the writer and the forward replication; decryption it leaves to IAM.
    const decrypt = asReplication('kms:Decrypt', keyArn, { 'kms:ViaService': `s3.${names.appWalArchive.region}.amazonaws.com` });
    expect(evaluateResourcePolicy(keyPolicy, decrypt)).not.toBe('explicit-deny');
    expect(evaluateResourcePolicy(identity, decrypt)).toBe('allowed');
    expect(evaluateResourcePolicy(bucketPolicy, asReplication('s3:GetObjectVersionForReplication', `${archiveArn}/${segment}`))).not.toBe('explicit-deny');
  });

  it('is built for the failover primary only', () => {
    for (const cluster of ['dr', 'staging']) expect(synthCluster(shipped, cluster).values('aws_iam_role').map((r) => r.name)).not.toContain(shipped.namesOf(cluster).backupReplicationRoles.appArchiveHome);
  });
});
