import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter';
import { TerraformStack, Testing } from 'cdktf';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { BackupBucket, ClusterKey, JoinParameters, REPLICATION_TIME_MINUTES, SnapshotRestoreRole } from '../src';
import { bareStack, platform, Synth, synthCluster, synthStack, type Attributes } from './support';

/** node-bootstrap's snapshotSchedule().keepAtLeast: etcd-snapshot.sh keeps this many newest, whatever their age. */
const KEEP_AT_LEAST = 3;

/** A synthesized aws_s3_bucket_lifecycle_configuration rule (the parts S3 evaluates here). */
interface LifecycleRule {
  readonly expiration: readonly { readonly days?: number; readonly expired_object_delete_marker?: boolean }[];
  readonly noncurrent_version_expiration: readonly { readonly noncurrent_days: number }[];
}

interface Version {
  readonly marker: boolean;
  readonly created: number;
  noncurrentSince?: number;
}

/**
 * A versioned bucket under one lifecycle rule, evaluated once a day as S3 does (S3 Lifecycle,
 * versioned buckets): Expiration.Days puts a delete marker on a current version that many days
 * after it was written (the version becomes noncurrent); NoncurrentVersionExpiration deletes a
 * noncurrent version that many days after it became noncurrent; ExpiredObjectDeleteMarker removes a
 * delete marker that is the only version left. A DeleteObject without a version id adds a marker.
 */
function simulateSnapshots(rule: LifecycleRule, run: { writerDays: number; stopDays: number; retentionDays: number; keepAtLeast: number }) {
  const keys = new Map<string, Version[]>();
  const current = (k: string) => keys.get(k)?.at(-1);
  const isCurrentObject = (k: string) => current(k)?.marker === false;
  const addMarker = (k: string, day: number) => {
    const versions = keys.get(k) as Version[];
    for (const v of versions) v.noncurrentSince ??= day;
    versions.push({ marker: true, created: day });
  };
  const [expiration] = rule.expiration;
  const noncurrentDays = rule.noncurrent_version_expiration[0].noncurrent_days;
  for (let day = 0; day < run.writerDays + run.stopDays; day++) {
    // S3's daily evaluation.
    for (const [k, versions] of keys) {
      const top = versions.at(-1) as Version;
      if (expiration.days !== undefined && !top.marker && day - top.created >= expiration.days) addMarker(k, day);
      const kept = versions.filter((v) => v.noncurrentSince === undefined || v.marker || day - v.noncurrentSince < noncurrentDays);
      if (expiration.expired_object_delete_marker && kept.length === 1 && kept[0].marker) keys.delete(k);
      else keys.set(k, kept);
    }
    if (day >= run.writerDays) continue;
    // etcd-snapshot.sh: upload, then delete what is older than the retention beyond the newest N (names sort by time).
    keys.set(`snap-${day}`, [{ marker: false, created: day }]);
    const newestFirst = [...keys.keys()].filter(isCurrentObject).sort((a, b) => Number(b.slice(5)) - Number(a.slice(5)));
    newestFirst.slice(run.keepAtLeast).filter((k) => day - Number(k.slice(5)) > run.retentionDays).forEach((k) => addMarker(k, day));
  }
  const all = [...keys.values()].flat();
  return {
    current: [...keys.keys()].filter(isCurrentObject),
    noncurrentVersions: all.filter((v) => !v.marker && v.noncurrentSince !== undefined).length,
    deleteMarkers: all.filter((v) => v.marker).length,
  };
}

describe('BackupBucket', () => {
  const shipped = platform();
  const production = synthCluster(shipped, 'production');
  const names = shipped.namesOf('production');
  const bucketId = (name: string) => (production.resources('aws_s3_bucket').find(([, b]) => b.bucket === name) as [string, Attributes])[0];
  const on = (type: string, name: string) => production.values(type).find((r) => r.bucket === `\${aws_s3_bucket.${bucketId(name)}.id}`) as Attributes;
  const replicationOf = (name: string) => production.values('aws_s3_bucket_replication_configuration').find((r) => r.bucket === name) as Attributes;
  const etcdBuckets = [names.etcdBackupBucket, names.etcdBackupReplicaBucket as string];
  const appBuckets = [names.appBackupBucket, names.appBackupReplicaBucket as string];

  it('creates the etcd and app buckets and their replicas in the DR region, all protected from destroy', () => {
    // The bootstrap and issuer buckets are not backups (test/identity.test.ts, test/bootstrap-bundles.test.ts).
    const buckets = production.values('aws_s3_bucket').filter((b) => /-backups-/.test(b.bucket));
    expect(buckets.map((b) => b.bucket).sort()).toEqual([...etcdBuckets, ...appBuckets].sort());
    expect(buckets.every((b) => b.lifecycle.prevent_destroy === true)).toBe(true);
    for (const replicaName of [names.etcdBackupReplicaBucket, names.appBackupReplicaBucket]) {
      expect(buckets.find((b) => b.bucket === replicaName)?.provider).toBe('aws.replica');
    }
    expect(buckets.filter((b) => !b.provider).map((b) => b.bucket).sort()).toEqual([names.appBackupBucket, names.etcdBackupBucket].sort());
    expect(production.json.provider.aws).toContainEqual(expect.objectContaining({ alias: 'replica', region: 'ap-northeast-1' }));
  });

  it('versions, encrypts with KMS, blocks public access and enforces TLS on every backup bucket', () => {
    for (const name of [...etcdBuckets, ...appBuckets]) {
      expect(on('aws_s3_bucket_versioning', name).versioning_configuration.status).toBe('Enabled');
      const [encryption] = on('aws_s3_bucket_server_side_encryption_configuration', name).rule;
      expect(encryption).toMatchObject({ apply_server_side_encryption_by_default: { sse_algorithm: 'aws:kms' }, bucket_key_enabled: true });
      expect(on('aws_s3_bucket_public_access_block', name)).toMatchObject({ block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true });
      expect(on('aws_s3_bucket_ownership_controls', name).rule.object_ownership).toBe('BucketOwnerEnforced');
      const tls = Synth.policy(on('aws_s3_bucket_policy', name).policy).Statement[0];
      expect(tls).toMatchObject({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': false } } });
    }
  });

  it('encrypts the app bucket with the cluster key and its replica with a key of the replica region', () => {
    const [clusterKey] = production.resources('aws_kms_key').find(([, k]) => !k.provider) as [string, Attributes];
    const keyOf = (name: string) => on('aws_s3_bucket_server_side_encryption_configuration', name).rule[0].apply_server_side_encryption_by_default.kms_master_key_id as string;
    expect(keyOf(names.appBackupBucket)).toBe(`\${aws_kms_key.${clusterKey}.arn}`);
    const replicaKey = production.deref(keyOf(names.appBackupReplicaBucket as string));
    expect(replicaKey).toMatchObject({ provider: 'aws.replica', enable_key_rotation: true, lifecycle: { prevent_destroy: true }, description: `PostgreSQL backups replicated from ${names.appBackupBucket}` });
  });

  it('never expires current backups by age: old versions, lone delete markers and unfinished uploads only', () => {
    const days = shipped.cluster('production').backups.retentionDays;
    for (const name of [...etcdBuckets, ...appBuckets]) {
      const [rule] = on('aws_s3_bucket_lifecycle_configuration', name).rule;
      expect(rule).toMatchObject({ status: 'Enabled', filter: [{ prefix: '' }], expiration: [{ expired_object_delete_marker: true }], noncurrent_version_expiration: [{ noncurrent_days: days }], abort_incomplete_multipart_upload: [{ days_after_initiation: 1 }] });
      expect(rule.expiration[0].days, name).toBeUndefined();
    }
    expect(on('aws_s3_bucket_lifecycle_configuration', names.etcdBackupBucket).rule[0].id).toBe('expire-snapshots');
  });

  it('keeps the newest etcd snapshots when the snapshots stop for longer than the retention (an age rule would leave none)', () => {
    const days = shipped.cluster('production').backups.retentionDays;
    const [rule] = on('aws_s3_bucket_lifecycle_configuration', names.etcdBackupBucket).rule as LifecycleRule[];
    // The timer writes a snapshot a day and prunes like etcd-snapshot.sh, then the leader stops
    // uploading for three retention periods.
    const writerDays = days + 15;
    const run = (r: LifecycleRule) => simulateSnapshots(r, { writerDays, stopDays: 3 * days, retentionDays: days, keepAtLeast: KEEP_AT_LEAST });
    const now = run(rule);
    expect(now.current.length).toBeGreaterThanOrEqual(KEEP_AT_LEAST);
    // What the pruning left: the last `days + 1` snapshots, the newest first among them.
    expect(now.current).toContain(`snap-${writerDays - 1}`);
    // What the writer deleted is gone for good after the retention: old versions and their markers.
    expect(now.noncurrentVersions).toBe(0);
    expect(now.deleteMarkers).toBe(0);
    // The rule as it was (current objects expire after `days`) leaves nothing to restore.
    const ageRule: LifecycleRule = { ...rule, expiration: [{ days }] };
    expect(run(ageRule).current).toEqual([]);
  });

  it.each([
    ['etcd', names.etcdBackupBucket, names.etcdBackupReplicaBucket as string, names.backupReplicationRoles.etcd, 'replicate-etcd-backups'],
    ['app', names.appBackupBucket, names.appBackupReplicaBucket as string, names.backupReplicationRoles.app, 'replicate-app-backups'],
  ])('replicates the %s backups (KMS-encrypted objects, delete markers) to the replica with its own role and key', (_kind, source, replica, roleName, policyName) => {
    const replication = replicationOf(source);
    const [rule] = replication.rule;
    expect(rule).toMatchObject({ status: 'Enabled', delete_marker_replication: { status: 'Enabled' }, source_selection_criteria: { sse_kms_encrypted_objects: { status: 'Enabled' } } });
    expect(rule.destination.bucket).toBe(`\${aws_s3_bucket.${bucketId(replica)}.arn}`);
    const replicaKey = rule.destination.encryption_configuration.replica_kms_key_id as string;
    expect(production.deref(replicaKey).provider).toBe('aws.replica');
    expect(replication.depends_on).toHaveLength(2);
    const role = production.deref(replication.role);
    expect(role.name).toBe(roleName);
    const [, policy] = production.resources('aws_iam_role_policy').find(([, p]) => p.name === policyName) as [string, Attributes];
    const statements = Synth.policy(policy.policy).Statement as Attributes[];
    expect(statements.find((s) => s.Sid === 'WriteReplica')?.Resource).toBe(`\${aws_s3_bucket.${bucketId(replica)}.arn}/*`);
    expect(statements.find((s) => s.Sid === 'EncryptReplica')?.Resource).toBe(replicaKey);
  });

  it.each([names.etcdBackupBucket, names.appBackupBucket])('bounds the replication of %s with Replication Time Control (15 min) and its metrics', (source) => {
    const { destination } = replicationOf(source).rule[0];
    expect(REPLICATION_TIME_MINUTES).toBe(15);
    expect(destination.replication_time).toEqual({ status: 'Enabled', time: { minutes: REPLICATION_TIME_MINUTES } });
    expect(destination.metrics).toEqual({ status: 'Enabled', event_threshold: { minutes: REPLICATION_TIME_MINUTES } });
  });

  it('keeps the etcd replication role under the name it was deployed with', () => {
    expect(names.backupReplicationRoles.etcd).toBe('production-etcd-backup-replication');
    expect(production.values('aws_iam_role').map((r) => r.name)).toContain('production-etcd-backup-replication');
  });

  it('has no replica when the cluster names no replica region', () => {
    const staging = synthCluster(shipped, 'staging');
    const stagingNames = shipped.namesOf('staging');
    expect(staging.values('aws_s3_bucket').map((b) => b.bucket).filter((b) => /-backups-/.test(b)).sort()).toEqual([stagingNames.appBackupBucket, stagingNames.etcdBackupBucket].sort());
    expect(staging.count('aws_s3_bucket_replication_configuration')).toBe(0);
    expect(staging.json.provider.aws).toHaveLength(1);
  });

  it('rejects a retention under a day', () => {
    expect(() => new BackupBucket(bareStack(), 'b', { bucketName: 'b', kmsKeyArn: 'k', retentionDays: 0, contents: 'etcd snapshots' })).toThrow('BackupBucket: props.retentionDays = 0; expected a whole number of days, at least 1');
  });

  it('rejects an empty description of the contents', () => {
    expect(() => new BackupBucket(bareStack(), 'b', { bucketName: 'b', kmsKeyArn: 'k', retentionDays: 7, contents: ' ' })).toThrow('BackupBucket: props.contents = " "; expected a short description of what the bucket holds, such as "etcd snapshots"');
  });

  it('rejects a replica that is the source bucket itself, before creating anything', () => {
    const stack = bareStack();
    const provider = new AwsProvider(stack, 'replica', { alias: 'replica', region: 'ap-northeast-1' });
    expect(() => new BackupBucket(stack, 'b', { bucketName: 'b', kmsKeyArn: 'k', retentionDays: 7, contents: 'etcd snapshots', replica: { bucketName: 'b', provider, replicationRoleName: 'r' } })).toThrow(
      'BackupBucket: props.replica.bucketName = "b"; expected a bucket other than the source (S3 names are global)',
    );
    expect(synthStack(stack).count('aws_s3_bucket')).toBe(0);
  });
});

describe('SnapshotRestoreRole', () => {
  const props = { roleName: 'production-etcd-restore', region: 'ap-northeast-2', accountId: '123456789012', bucketArn: 'arn:aws:s3:::b', snapshotPrefix: 'etcd-snapshots/production', kmsKeyArn: 'arn:aws:kms:ap-northeast-2:123456789012:key/k', deniedPrincipalArns: ['arn:aws:iam::123456789012:role/production-control-plane'] };

  it('is in every cluster stack under its platform-config name: list, read and decrypt (through S3) the snapshots under the prefix, nothing else', () => {
    const production = synthCluster(platform(), 'production');
    const names = platform().namesOf('production');
    const [[roleId, role]] = production.resources('aws_iam_role').filter(([, r]) => r.name === names.etcdRestoreRole);
    expect(role.max_session_duration).toBe(3600);
    const [policy] = production.values('aws_iam_role_policy').filter((p) => p.role === `\${aws_iam_role.${roleId}.name}`);
    const statements = Synth.policy(policy.policy).Statement as Attributes[];
    expect(statements.map((s) => [s.Sid, s.Action])).toEqual([
      ['ListSnapshots', 's3:ListBucket'],
      ['ReadSnapshots', 's3:GetObject'],
      ['DecryptSnapshots', 'kms:Decrypt'],
    ]);
    expect(statements[1].Resource).toMatch(/^\$\{aws_s3_bucket\.[^}]+\.arn\}\/etcd-snapshots\/production\/\*$/);
    expect(statements[2].Condition).toEqual({ StringEquals: { 'kms:ViaService': 's3.ap-northeast-2.amazonaws.com' } });
    expect(production.json.output.etcd_restore_role_arn.value).toBe(`\${aws_iam_role.${roleId}.arn}`);
  });

  it('rejects a prefix with a slash at either end or a wildcard', () => {
    expect(() => new SnapshotRestoreRole(bareStack(), 'r', { ...props, snapshotPrefix: 'etcd-snapshots/*' })).toThrow(
      'SnapshotRestoreRole: props.snapshotPrefix = "etcd-snapshots/*"; expected a key prefix without a leading or trailing "/" or wildcards, such as "etcd-snapshots/production"',
    );
  });

  it('rejects a trust that denies no node role', () => {
    expect(() => new SnapshotRestoreRole(bareStack(), 'r', { ...props, deniedPrincipalArns: [] })).toThrow("SnapshotRestoreRole: props.deniedPrincipalArns = []; expected at least one principal ARN (the cluster's node roles)");
  });

  it('rejects a session IAM does not allow', () => {
    expect(() => new SnapshotRestoreRole(bareStack(), 'r', { ...props, maxSessionSeconds: 600 })).toThrow('SnapshotRestoreRole: props.maxSessionSeconds = 600; expected a whole number of seconds from 3600 to 43200 (IAM MaxSessionDuration)');
  });
});

describe('ClusterKey and JoinParameters', () => {
  const production = synthCluster(platform(), 'production');

  it('rotates the cluster key and protects it from destroy', () => {
    const [key] = production.values('aws_kms_key').filter((k) => !k.provider);
    expect(key).toMatchObject({ enable_key_rotation: true, deletion_window_in_days: 30, lifecycle: { prevent_destroy: true } });
    // Aliases in other providers (the us-east-1 page topic's key) are not the cluster's.
    expect(production.values('aws_kms_alias').filter((a) => !a.provider)[0].name).toBe('alias/production-cluster');
  });

  it('manages no join parameter: the nodes create them, Terraform only forgets the ones it used to own (destroy = false)', () => {
    expect(production.count('aws_ssm_parameter')).toBe(0);
    const removed = production.json.removed as { from: string; lifecycle: { destroy: boolean } }[];
    // The addresses earlier versions gave JoinParameters' resources (construct path join-parameters/<key>).
    expect(removed.map((r) => r.from).sort()).toEqual([
      expect.stringMatching(/^aws_ssm_parameter\.join-parameters_caCertHash_[0-9A-F]{8}$/),
      expect.stringMatching(/^aws_ssm_parameter\.join-parameters_certificateKey_[0-9A-F]{8}$/),
      expect.stringMatching(/^aws_ssm_parameter\.join-parameters_joinToken_[0-9A-F]{8}$/),
    ]);
    expect(removed.every((r) => r.lifecycle.destroy === false)).toBe(true);
  });

  it('forgets exactly the addresses the previous JoinParameters resources had', () => {
    // What `new SsmParameter(scope, key, …)` inside JoinParameters('join-parameters') was called before this change.
    const previous = new TerraformStack(Testing.app(), 'production-cluster');
    const scope = new Construct(previous, 'join-parameters');
    const addresses = (['joinToken', 'caCertHash', 'certificateKey'] as const).map(
      (key) => `aws_ssm_parameter.${previous.getLogicalId(new SsmParameter(scope, key, { name: `/x/${key}`, type: 'SecureString' }))}`,
    );
    expect((production.json.removed as { from: string }[]).map((r) => r.from).sort()).toEqual(addresses.sort());
  });

  it('names the join parameters\' ARNs from platform-config, for IAM and the KMS encryption context', () => {
    const join = new JoinParameters(bareStack(), 'j', { joinToken: '/o/c/kubeadm/join-token', caCertHash: '/o/c/kubeadm/ca-cert-hash', certificateKey: '/o/c/kubeadm/certificate-key', region: 'ap-northeast-2', accountId: '123456789012' });
    expect(join.arns).toEqual([
      'arn:aws:ssm:ap-northeast-2:123456789012:parameter/o/c/kubeadm/certificate-key',
      'arn:aws:ssm:ap-northeast-2:123456789012:parameter/o/c/kubeadm/ca-cert-hash',
      'arn:aws:ssm:ap-northeast-2:123456789012:parameter/o/c/kubeadm/join-token',
    ]);
    expect(join.joinTokenArn).toBe('arn:aws:ssm:ap-northeast-2:123456789012:parameter/o/c/kubeadm/join-token');
  });

  it('rejects an alias without the alias/ prefix', () => {
    expect(() => new ClusterKey(bareStack(), 'k', { aliasName: 'cluster', description: 'd' })).toThrow('ClusterKey: props.aliasName = "cluster"; expected a name starting with "alias/"');
  });

  it('rejects a deletion window outside 7..30 days', () => {
    expect(() => new ClusterKey(bareStack(), 'k', { aliasName: 'alias/x', description: 'd', deletionWindowInDays: 3 })).toThrow('ClusterKey: props.deletionWindowInDays = 3; expected 7 to 30 days');
  });

  it('rejects a parameter name that is not a path', () => {
    expect(() => new JoinParameters(bareStack(), 'j', { joinToken: 'token', caCertHash: '/a', certificateKey: '/b', region: 'r', accountId: '1' })).toThrow('JoinParameters: props.joinToken = "token"; expected an SSM path starting with "/" (no wildcards)');
  });
});
