import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { Construct } from 'constructs';
import { policyDocument, renderPolicy } from '../iam/policy-document';
import { invalidProp } from '../private/validation';

export interface IssuerBucketProps {
  /** platform-config `names.serviceAccountIssuer.bucket`. */
  readonly bucketName: string;
  /** The two keys STS reads (`discoveryKey`, `jwksKey`): the only objects anyone may read anonymously. */
  readonly publicKeys: readonly string[];
}

/**
 * Where the service-account issuer's OpenID discovery document and JWKS are served from
 * (`https://<bucket>.s3.<region>.amazonaws.com/...`, the issuer URL itself). Public for exactly
 * the two object ARNs, through the bucket policy: Block Public Access keeps ACLs out
 * (`block_public_acls`, `ignore_public_acls`, BucketOwnerEnforced) but lets that policy be public;
 * no anonymous `s3:ListBucket`, so nothing is listable. SSE-S3: an anonymous reader cannot
 * use a KMS key. TLS only. The control-plane role writes the two objects (node policy
 * `service-account-issuer`).
 *
 * Never destroyed: S3 bucket names are global, and whoever recreated this name could serve a
 * JWKS of their own to STS, which trusts the issuer URL through the cluster's OIDC provider.
 */
export class IssuerBucket extends Construct {
  readonly bucketName: string;
  readonly bucketArn: string;
  /** ARNs of the two published objects, in `publicKeys` order. */
  readonly objectArns: readonly string[];

  constructor(scope: Construct, id: string, props: IssuerBucketProps) {
    super(scope, id);
    if (props.publicKeys.length === 0 || new Set(props.publicKeys).size !== props.publicKeys.length || props.publicKeys.some((k) => k === '' || k.includes('*') || k.startsWith('/'))) {
      throw invalidProp('IssuerBucket', 'publicKeys', props.publicKeys, 'distinct object keys without wildcards or a leading "/"');
    }
    const bucket = new S3Bucket(this, 'bucket', { bucket: props.bucketName, lifecycle: { preventDestroy: true } });
    new S3BucketServerSideEncryptionConfigurationA(this, 'encryption', { bucket: bucket.id, rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }] });
    const publicAccess = new S3BucketPublicAccessBlock(this, 'public-access', { bucket: bucket.id, blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: false, restrictPublicBuckets: false });
    new S3BucketOwnershipControls(this, 'ownership', { bucket: bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } });
    this.objectArns = props.publicKeys.map((key) => `${bucket.arn}/${key}`);
    new S3BucketPolicy(this, 'policy', {
      bucket: bucket.id,
      policy: renderPolicy(
        policyDocument(
          { Sid: 'ReadDiscoveryDocuments', Effect: 'Allow', Principal: { AWS: '*' }, Action: 's3:GetObject', Resource: [...this.objectArns] },
          { Sid: 'TlsOnly', Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:*', Resource: [bucket.arn, `${bucket.arn}/*`], Condition: { Bool: { 'aws:SecureTransport': false } } },
        ),
      ),
      // With the account's or the bucket's block of public policies still on, S3 refuses a public policy.
      dependsOn: [publicAccess],
    });
    this.bucketName = props.bucketName;
    this.bucketArn = bucket.arn;
  }
}
