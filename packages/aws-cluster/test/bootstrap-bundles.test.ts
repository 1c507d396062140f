import { bootstrapBundle } from '@platform/node-bootstrap';
import { bootstrapNames } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { BootstrapBundles } from '../src/bootstrap/bootstrap-bundles';
import { bareStack, platform, Synth, synthCluster, type Attributes } from './support';

describe('BootstrapBundles: node scripts in S3, user data pins version and hash', () => {
  const shipped = platform();
  const production = synthCluster(shipped, 'production');
  const names = shipped.namesOf('production');
  const [[bucketId, bucket]] = production.resources('aws_s3_bucket').filter(([, b]) => b.bucket === names.bootstrapBucket);
  const on = (type: string) => production.values(type).find((r) => r.bucket === `\${aws_s3_bucket.${bucketId}.id}`) as Attributes;
  const objects = production.resources('aws_s3_object');

  it('holds one object per role with exactly the bundle node-bootstrap renders', () => {
    expect(objects.map(([, o]) => o.key).sort()).toEqual(['bootstrap/control-plane.lzma', 'bootstrap/worker.lzma']);
    for (const role of ['control-plane', 'worker'] as const) {
      const [, object] = objects.find(([, o]) => o.key === bootstrapNames(names).bundleKey(role)) as [string, Attributes];
      expect(object.content_base64).toBe(bootstrapBundle(role).contentBase64);
      expect(object.bucket).toBe(`\${aws_s3_bucket.${bucketId}.id}`);
    }
  });

  it('is private, versioned, SSE-S3, and keeps a replaced bundle for 90 days', () => {
    expect(bucket.bucket).toBe('hakube-production-bootstrap-ap-northeast-2');
    expect(on('aws_s3_bucket_public_access_block')).toMatchObject({ block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true });
    expect(on('aws_s3_bucket_versioning').versioning_configuration.status).toBe('Enabled');
    expect(on('aws_s3_bucket_server_side_encryption_configuration').rule[0].apply_server_side_encryption_by_default).toEqual({ sse_algorithm: 'AES256' });
    expect(on('aws_s3_bucket_ownership_controls').rule.object_ownership).toBe('BucketOwnerEnforced');
    // Nobody but the node roles (IAM) reads it: no bucket policy grants anything.
    expect(on('aws_s3_bucket_policy')).toBeUndefined();
    expect(on('aws_s3_bucket_lifecycle_configuration').rule[0]).toMatchObject({ noncurrent_version_expiration: [{ noncurrent_days: 90 }] });
    // No expiration of current versions: a running cluster's bundle never disappears.
    expect(on('aws_s3_bucket_lifecycle_configuration').rule[0].expiration).toBeUndefined();
  });

  it('gives each launch template its role bundle version id and SHA-256', () => {
    for (const [, template] of production.resources('aws_launch_template')) {
      const role = template.name.startsWith('production-control-plane') ? 'control-plane' : 'worker';
      const [objectId] = objects.find(([, o]) => o.key === `bootstrap/${role}.lzma`) as [string, Attributes];
      const userData: string = template.user_data;
      expect(userData).toContain(`, aws_s3_object.${objectId}.version_id, `);
      expect(userData).toContain(bootstrapBundle(role).sha256);
    }
  });

  it('lets each node role read only its own role bundle (GetObject by version), in its own statement', () => {
    const role = (name: string) => production.resources('aws_iam_role').find(([, r]) => r.name === name)?.[0];
    const policy = (name: string) => Synth.policy(production.values('aws_iam_role_policy').find((p) => p.role === `\${aws_iam_role.${role(name)}.name}` && p.name === 'bootstrap-bundle')?.policy);
    const arn = (r: string) => `\${aws_s3_bucket.${bucketId}.arn}/bootstrap/${r}.lzma`;
    expect(policy('production-control-plane').Statement).toEqual([{ Sid: 'FetchBootstrapBundle', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: arn('control-plane') }]);
    expect(policy('production-worker').Statement).toEqual([{ Sid: 'FetchBootstrapBundle', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: arn('worker') }]);
  });

  it('rejects two bundles for one role, a key the stub cannot sign unescaped and a retention under a day', () => {
    const bundle = { role: 'worker' as const, key: 'bootstrap/worker.lzma', contentBase64: 'AA==' };
    expect(() => new BootstrapBundles(bareStack(), 'b', { bucketName: 'b', bundles: [bundle, bundle] })).toThrow('BootstrapBundles: props.bundles = ["worker","worker"]; expected at most one bundle per role');
    expect(() => new BootstrapBundles(bareStack(), 'b', { bucketName: 'b', bundles: [{ ...bundle, key: 'boot strap' }] })).toThrow(
      'BootstrapBundles: props.bundles[0].key = "boot strap"; expected an S3 key of letters, digits and / . _ - (the stub signs it unescaped)',
    );
    expect(() => new BootstrapBundles(bareStack(), 'b', { bucketName: 'b', bundles: [bundle], previousVersionDays: 0 })).toThrow('BootstrapBundles: props.previousVersionDays = 0; expected a whole number of days, at least 1');
    expect(() => new BootstrapBundles(bareStack(), 'b', { bucketName: 'b', bundles: [bundle] }).bundle('control-plane')).toThrow('BootstrapBundles: no bundle for role control-plane; given: worker');
  });
});
