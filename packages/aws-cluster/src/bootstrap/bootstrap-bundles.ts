import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { S3BucketVersioningA } from '@cdktf/provider-aws/lib/s3-bucket-versioning';
import { S3Object } from '@cdktf/provider-aws/lib/s3-object';
import { Construct } from 'constructs';
import { invalidProp } from '../private/validation';

export type NodeRoleName = 'control-plane' | 'worker';

/** One role's script bundle: where it goes and what it holds (node-bootstrap `bootstrapBundle`). */
export interface BundleSource {
  readonly role: NodeRoleName;
  /** Object key (platform-config `bootstrapNames().bundleKey(role)`). */
  readonly key: string;
  readonly contentBase64: string;
}

export interface BootstrapBundlesProps {
  /** platform-config `names.bootstrapBucket`. */
  readonly bucketName: string;
  readonly bundles: readonly BundleSource[];
  /**
   * Days an older bundle version stays fetchable after a newer one replaced it: how long an
   * older launch template version (an incident rollback) still boots. @default 90
   */
  readonly previousVersionDays?: number;
}

/** What a launch template and a node policy need of one bundle. */
export interface PublishedBundle {
  readonly bucketName: string;
  readonly key: string;
  /** The object's ARN (the node policy grants reading exactly this key). */
  readonly objectArn: string;
  /** Token: the S3 version the user data pins. */
  readonly versionId: string;
}

/**
 * The node bootstrap scripts, one S3 object per role, out of user data (EC2's 16 KB). Private
 * (public access blocked, bucket-owner-enforced), SSE-S3 (the scripts are the repository's,
 * nothing secret: no KMS grant for the nodes) and versioned. No TLS-only bucket policy: the
 * integrity guard is the SHA-256 pinned in user data (the stub only speaks HTTPS anyway), and
 * such a policy would make moto refuse Terraform's own reads of the objects in the e2e run.
 *
 * One stable key per role, changed in place: a script change uploads a new version and the user
 * data pins that version and its SHA-256, so the launch template changes and the roll goes
 * through the normal plan, while an older launch template keeps fetching its own version for
 * `previousVersionDays`. A content-hash key would not do that: a new key replaces the
 * `aws_s3_object`, and the provider deletes every version of the replaced key.
 */
export class BootstrapBundles extends Construct {
  readonly bucketName: string;
  readonly bucketArn: string;
  private readonly published = new Map<NodeRoleName, PublishedBundle>();

  constructor(scope: Construct, id: string, props: BootstrapBundlesProps) {
    super(scope, id);
    const days = props.previousVersionDays ?? 90;
    if (!Number.isInteger(days) || days < 1) throw invalidProp('BootstrapBundles', 'previousVersionDays', days, 'a whole number of days, at least 1');
    const roles = props.bundles.map((b) => b.role);
    if (new Set(roles).size !== roles.length) throw invalidProp('BootstrapBundles', 'bundles', roles, 'at most one bundle per role');
    props.bundles.forEach((b, i) => {
      if (!/^[A-Za-z0-9][A-Za-z0-9/._-]*$/.test(b.key)) throw invalidProp('BootstrapBundles', `bundles[${i}].key`, b.key, 'an S3 key of letters, digits and / . _ - (the stub signs it unescaped)');
    });

    const bucket = new S3Bucket(this, 'bucket', { bucket: props.bucketName });
    const versioning = new S3BucketVersioningA(this, 'versioning', { bucket: bucket.id, versioningConfiguration: { status: 'Enabled' } });
    new S3BucketServerSideEncryptionConfigurationA(this, 'encryption', { bucket: bucket.id, rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }] });
    new S3BucketPublicAccessBlock(this, 'public-access', { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    new S3BucketOwnershipControls(this, 'ownership', { bucket: bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } });
    new S3BucketLifecycleConfiguration(this, 'lifecycle', {
      bucket: bucket.id,
      rule: [{ id: 'expire-previous-bundles', status: 'Enabled', filter: [{ prefix: '' }], noncurrentVersionExpiration: [{ noncurrentDays: days }], abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }] }],
      dependsOn: [versioning],
    });
    for (const bundle of props.bundles) {
      // The version id is known only once versioning is on: the object waits for it.
      const object = new S3Object(this, `bundle-${bundle.role}`, { bucket: bucket.id, key: bundle.key, contentBase64: bundle.contentBase64, contentType: 'application/x-lzma', dependsOn: [versioning] });
      this.published.set(bundle.role, { bucketName: props.bucketName, key: bundle.key, objectArn: `${bucket.arn}/${bundle.key}`, versionId: object.versionId });
    }
    this.bucketName = props.bucketName;
    this.bucketArn = bucket.arn;
  }

  /** The role's bundle; throws when the construct was given none for it. */
  bundle(role: NodeRoleName): PublishedBundle {
    const found = this.published.get(role);
    if (!found) throw new Error(`BootstrapBundles: no bundle for role ${role}; given: ${[...this.published.keys()].join(', ') || 'none'}`);
    return found;
  }
}
