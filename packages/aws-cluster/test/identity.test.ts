import { describe, expect, it } from 'vitest';
import { IssuerBucket } from '../src/identity/issuer-bucket';
import { ServiceAccountOidcProvider } from '../src/identity/oidc-provider';
import { evaluateResourcePolicy } from './resource-policy-model';
import { bareStack, platform, Synth, synthCluster, type Attributes } from './support';

describe('service-account issuer (IRSA): bucket, OIDC provider, publishing grant', () => {
  const shipped = platform();
  const production = synthCluster(shipped, 'production');
  const issuer = shipped.namesOf('production').serviceAccountIssuer;
  const [[bucketId, bucket]] = production.resources('aws_s3_bucket').filter(([, b]) => b.bucket === issuer.bucket);
  const arn = `\${aws_s3_bucket.${bucketId}.arn}`;
  const on = (type: string) => production.values(type).find((r) => r.bucket === `\${aws_s3_bucket.${bucketId}.id}`) as Attributes;
  const policy = Synth.policy(on('aws_s3_bucket_policy').policy);
  const anonymous = (action: string, resource: string, secure = true) =>
    evaluateResourcePolicy(policy, { principal: {}, action, resource, context: { 'aws:SecureTransport': String(secure) } });

  it('lets anyone read exactly the discovery document and the JWKS, over TLS only', () => {
    const discovery = `${arn}/${issuer.discoveryKey}`;
    const jwks = `${arn}/${issuer.jwksKey}`;
    expect(anonymous('s3:GetObject', discovery)).toBe('allowed');
    expect(anonymous('s3:GetObject', jwks)).toBe('allowed');
    expect(anonymous('s3:GetObject', discovery, false)).toBe('explicit-deny');
    // Every other key stays private, and the exact keys are not a prefix for more.
    for (const other of ['openid/v1/jwks.old', '.well-known/other', 'sa.key', 'openid/v1/jwks/x']) expect(anonymous('s3:GetObject', `${arn}/${other}`)).toBe('implicit-deny');
    // Nothing is listable, writable or readable about the bucket itself.
    for (const action of ['s3:ListBucket', 's3:ListBucketVersions', 's3:GetBucketPolicy', 's3:GetBucketAcl']) expect(anonymous(action, arn)).toBe('implicit-deny');
    for (const action of ['s3:PutObject', 's3:DeleteObject', 's3:GetObjectVersion', 's3:GetObjectAcl']) expect(anonymous(action, jwks)).toBe('implicit-deny');
    // Exactly two public objects: the only Allow names the two ARNs, no wildcard.
    const allows = policy.Statement.filter((s: Attributes) => s.Effect === 'Allow');
    expect(allows).toEqual([{ Sid: 'ReadDiscoveryDocuments', Effect: 'Allow', Principal: { AWS: '*' }, Action: 's3:GetObject', Resource: [discovery, jwks] }]);
  });

  it('blocks ACLs but allows the public policy, enforces bucket ownership, uses SSE-S3 and is never destroyed', () => {
    expect(on('aws_s3_bucket_public_access_block')).toMatchObject({ block_public_acls: true, ignore_public_acls: true, block_public_policy: false, restrict_public_buckets: false });
    expect(on('aws_s3_bucket_ownership_controls').rule.object_ownership).toBe('BucketOwnerEnforced');
    // Anonymous readers (STS) cannot use a KMS key.
    expect(on('aws_s3_bucket_server_side_encryption_configuration').rule).toEqual([{ apply_server_side_encryption_by_default: { sse_algorithm: 'AES256' } }]);
    expect(bucket.lifecycle.prevent_destroy).toBe(true);
    expect(on('aws_s3_bucket_policy').depends_on).toEqual([expect.stringMatching(/^aws_s3_bucket_public_access_block\./)]);
    expect(bucket.bucket).toBe('hakube-production-oidc-ap-northeast-2');
  });

  it('creates one OIDC provider for the issuer URL with audience sts.amazonaws.com and exports its ARN', () => {
    const providers = production.values('aws_iam_openid_connect_provider');
    expect(providers).toEqual([{ url: 'https://hakube-production-oidc-ap-northeast-2.s3.ap-northeast-2.amazonaws.com', client_id_list: ['sts.amazonaws.com'] }]);
    expect(providers[0].url).toBe(issuer.url);
    expect(production.json.output.service_account_oidc_provider_arn.value).toMatch(/^\$\{aws_iam_openid_connect_provider\..*\.arn\}$/);
    expect(production.json.output.service_account_issuer.value).toBe(issuer.url);
  });

  it('lets the control-plane role put exactly the two objects, in its own statement; workers nothing', () => {
    const role = (name: string) => production.resources('aws_iam_role').find(([, r]) => r.name === name)?.[0];
    const policies = (name: string) => production.values('aws_iam_role_policy').filter((p) => p.role === `\${aws_iam_role.${role(name)}.name}`);
    const statement = policies('production-control-plane').find((p) => p.name === 'service-account-issuer');
    expect(Synth.policy(statement?.policy).Statement).toEqual([
      { Sid: 'PublishServiceAccountIssuer', Effect: 'Allow', Action: 's3:PutObject', Resource: [`${arn}/${issuer.discoveryKey}`, `${arn}/${issuer.jwksKey}`] },
    ]);
    // No other statement of either role names the issuer bucket.
    const mentions = [...policies('production-control-plane').filter((p) => p.name !== 'service-account-issuer'), ...policies('production-worker')].filter((p) => p.policy.includes(bucketId));
    expect(mentions).toEqual([]);
  });

  it('rejects wildcard, empty or duplicate public keys and an issuer URL with a path', () => {
    expect(() => new IssuerBucket(bareStack(), 'i', { bucketName: 'b', publicKeys: ['openid/*'] })).toThrow('IssuerBucket: props.publicKeys = ["openid/*"]; expected distinct object keys without wildcards or a leading "/"');
    expect(() => new IssuerBucket(bareStack(), 'i', { bucketName: 'b', publicKeys: [] })).toThrow('IssuerBucket: props.publicKeys = []; expected distinct object keys without wildcards or a leading "/"');
    expect(() => new IssuerBucket(bareStack(), 'i', { bucketName: 'b', publicKeys: ['a', 'a'] })).toThrow('IssuerBucket: props.publicKeys = ["a","a"]; expected distinct object keys without wildcards or a leading "/"');
    expect(() => new ServiceAccountOidcProvider(bareStack(), 'p', { issuerUrl: 'https://x.example.com/', audience: 'sts.amazonaws.com' })).toThrow(
      'ServiceAccountOidcProvider: props.issuerUrl = "https://x.example.com/"; expected https:// and a host name, no path or trailing slash',
    );
    expect(() => new ServiceAccountOidcProvider(bareStack(), 'p', { issuerUrl: 'https://x.example.com', audience: ' ' })).toThrow(
      'ServiceAccountOidcProvider: props.audience = " "; expected the audience tokens are issued for, such as sts.amazonaws.com',
    );
  });
});
