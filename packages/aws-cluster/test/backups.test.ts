import { describe, expect, it } from 'vitest';
import { ClusterKey, EtcdBackupBucket, JoinParameters } from '../src';
import { bareStack, platform, Synth, synthCluster, type Attributes } from './support';

describe('EtcdBackupBucket', () => {
  const shipped = platform();
  const production = synthCluster(shipped, 'production');
  const names = shipped.namesOf('production');
  const bucketId = (name: string) => (production.resources('aws_s3_bucket').find(([, b]) => b.bucket === name) as [string, Attributes])[0];
  const on = (type: string, name: string) => production.values(type).find((r) => r.bucket === `\${aws_s3_bucket.${bucketId(name)}.id}`) as Attributes;

  it('creates the bucket and its replica in the DR region, both protected from destroy', () => {
    const buckets = production.values('aws_s3_bucket');
    expect(buckets.map((b) => b.bucket).sort()).toEqual([names.etcdBackupBucket, names.etcdBackupReplicaBucket].sort());
    expect(buckets.every((b) => b.lifecycle.prevent_destroy === true)).toBe(true);
    const replica = buckets.find((b) => b.bucket === names.etcdBackupReplicaBucket) as Attributes;
    expect(replica.provider).toBe('aws.replica');
    expect(production.json.provider.aws).toContainEqual(expect.objectContaining({ alias: 'replica', region: 'ap-northeast-1' }));
  });

  it('versions, encrypts with KMS, blocks public access, enforces TLS and expires after the retention', () => {
    for (const name of [names.etcdBackupBucket, names.etcdBackupReplicaBucket as string]) {
      expect(on('aws_s3_bucket_versioning', name).versioning_configuration.status).toBe('Enabled');
      expect(on('aws_s3_bucket_server_side_encryption_configuration', name).rule[0].apply_server_side_encryption_by_default.sse_algorithm).toBe('aws:kms');
      expect(on('aws_s3_bucket_public_access_block', name)).toMatchObject({ block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true });
      const [rule] = on('aws_s3_bucket_lifecycle_configuration', name).rule;
      expect(rule).toMatchObject({ status: 'Enabled', expiration: [{ days: 30 }], noncurrent_version_expiration: [{ noncurrent_days: 30 }] });
      const tls = Synth.policy(on('aws_s3_bucket_policy', name).policy).Statement[0];
      expect(tls).toMatchObject({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': false } } });
    }
  });

  it('replicates KMS-encrypted snapshots and delete markers to the replica with its own key', () => {
    const [replication] = production.values('aws_s3_bucket_replication_configuration');
    const [rule] = replication.rule;
    expect(rule).toMatchObject({ status: 'Enabled', delete_marker_replication: { status: 'Enabled' }, source_selection_criteria: { sse_kms_encrypted_objects: { status: 'Enabled' } } });
    expect(rule.destination.bucket).toBe(`\${aws_s3_bucket.${bucketId(names.etcdBackupReplicaBucket as string)}.arn}`);
    expect(production.deref(rule.destination.encryption_configuration.replica_kms_key_id).provider).toBe('aws.replica');
    expect(replication.depends_on).toHaveLength(2);
  });

  it('has no replica when the cluster names no replica region', () => {
    const staging = synthCluster(shipped, 'staging');
    expect(staging.count('aws_s3_bucket')).toBe(1);
    expect(staging.count('aws_s3_bucket_replication_configuration')).toBe(0);
    expect(staging.json.provider.aws).toHaveLength(1);
  });

  it('rejects a retention under a day', () => {
    expect(() => new EtcdBackupBucket(bareStack(), 'b', { bucketName: 'b', kmsKeyArn: 'k', retentionDays: 0 })).toThrow('EtcdBackupBucket: props.retentionDays = 0; expected a whole number of days, at least 1');
  });
});

describe('ClusterKey and JoinParameters', () => {
  const production = synthCluster(platform(), 'production');

  it('rotates the cluster key and protects it from destroy', () => {
    const [key] = production.values('aws_kms_key').filter((k) => !k.provider);
    expect(key).toMatchObject({ enable_key_rotation: true, deletion_window_in_days: 30, lifecycle: { prevent_destroy: true } });
    expect(production.values('aws_kms_alias')[0].name).toBe('alias/production-cluster');
  });

  it('keeps join material as SecureStrings under the cluster path, values owned by the nodes', () => {
    const parameters = production.values('aws_ssm_parameter');
    expect(parameters.map((p) => p.name).sort()).toEqual(['/hakube/production/kubeadm/ca-cert-hash', '/hakube/production/kubeadm/certificate-key', '/hakube/production/kubeadm/join-token']);
    expect(parameters.every((p) => p.type === 'SecureString' && p.key_id.startsWith('${aws_kms_key.') && p.lifecycle.ignore_changes[0] === 'value')).toBe(true);
  });

  it('rejects an alias without the alias/ prefix', () => {
    expect(() => new ClusterKey(bareStack(), 'k', { aliasName: 'cluster', description: 'd' })).toThrow('ClusterKey: props.aliasName = "cluster"; expected a name starting with "alias/"');
  });

  it('rejects a deletion window outside 7..30 days', () => {
    expect(() => new ClusterKey(bareStack(), 'k', { aliasName: 'alias/x', description: 'd', deletionWindowInDays: 3 })).toThrow('ClusterKey: props.deletionWindowInDays = 3; expected 7 to 30 days');
  });

  it('rejects a parameter name that is not a path', () => {
    expect(() => new JoinParameters(bareStack(), 'j', { joinToken: 'token', caCertHash: '/a', certificateKey: '/b', kmsKeyArn: 'k' })).toThrow('JoinParameters: props.joinToken = "token"; expected an SSM path starting with "/"');
  });
});
