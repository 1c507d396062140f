import { WORKLOAD_IDENTITY_IDS, workloadIdentitiesOf, workloadIdentity, type WorkloadIdentityId } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { policyDocument, WorkloadRoles, workloadPolicies, type WorkloadPolicyContext } from '../src';
import { bareStack, platform, Synth, synthCluster, type Attributes } from './support';

const shipped = platform();
const CLUSTERS = ['production', 'dr', 'staging'];
const stacks = Object.fromEntries(CLUSTERS.map((c) => [c, synthCluster(shipped, c)]));

/** Each workload role of a synthesized cluster: its trust and the statements of its inline policies. */
function rolesOf(cluster: string): Map<string, { trust: Attributes; statements: Attributes[] }> {
  const synth = stacks[cluster];
  const roles = new Map<string, { trust: Attributes; statements: Attributes[] }>();
  for (const [id, role] of synth.resources('aws_iam_role')) {
    const trust = Synth.policy(role.assume_role_policy);
    if (!trust.Statement.some((s: Attributes) => s.Action === 'sts:AssumeRoleWithWebIdentity')) continue;
    const statements = synth
      .values('aws_iam_role_policy')
      .filter((p) => p.role === `\${aws_iam_role.${id}.name}`)
      .flatMap((p) => Synth.policy(p.policy).Statement as Attributes[]);
    roles.set(role.name, { trust, statements });
  }
  return roles;
}
const roleOf = (cluster: string, id: WorkloadIdentityId) => {
  const role = rolesOf(cluster).get(workloadIdentity(shipped.namesOf(cluster), id).roleName);
  if (!role) throw new Error(`${cluster} has no role for ${id}`);
  return role;
};
const sids = (statements: Attributes[]) => statements.map((s) => s.Sid);
const actionsOf = (statements: Attributes[]) => statements.flatMap((s) => [s.Action].flat() as string[]);

describe('WorkloadRoles in every shipped cluster', () => {
  it('synthesizes no IAM user and no access key anywhere: no long-lived AWS key exists', () => {
    for (const synth of Object.values(stacks)) {
      for (const type of ['aws_iam_user', 'aws_iam_user_policy', 'aws_iam_access_key', 'aws_iam_user_login_profile', 'aws_iam_service_specific_credential']) expect(synth.count(type)).toBe(0);
      expect(JSON.stringify(synth.json)).not.toMatch(/secret_access_key|aws_iam_access_key|aws_iam_user\b/);
    }
  });

  it('makes exactly one role per identity the cluster needs, named by platform-config', () => {
    for (const cluster of CLUSTERS) {
      const expected = workloadIdentitiesOf(shipped.cluster(cluster), shipped.namesOf(cluster)).map((i) => i.roleName);
      expect([...rolesOf(cluster).keys()].sort()).toEqual([...expected].sort());
      expect(expected).toHaveLength(WORKLOAD_IDENTITY_IDS.length);
    }
  });

  it('trusts only the cluster’s OIDC provider, for exactly one service account and the STS audience (StringEquals, no wildcard)', () => {
    for (const cluster of CLUSTERS) {
      const names = shipped.namesOf(cluster);
      const issuer = names.serviceAccountIssuer;
      // The cluster's one provider, for its issuer URL; the trusts reference it (so Terraform creates it first).
      const providers = [...stacks[cluster].resources('aws_iam_openid_connect_provider')];
      expect(providers.map(([, p]) => p.url)).toEqual([issuer.url]);
      const federated = `\${aws_iam_openid_connect_provider.${providers[0]![0]}.arn}`;
      for (const identity of workloadIdentitiesOf(shipped.cluster(cluster), names)) {
        const { trust } = roleOf(cluster, identity.id);
        expect(trust.Statement).toEqual([
          {
            Effect: 'Allow',
            Principal: { Federated: federated },
            Action: 'sts:AssumeRoleWithWebIdentity',
            Condition: { StringEquals: { [`${issuer.host}:sub`]: `system:serviceaccount:${identity.namespace}:${identity.serviceAccount}`, [`${issuer.host}:aud`]: 'sts.amazonaws.com' } },
          },
        ]);
        expect(JSON.stringify(trust)).not.toMatch(/StringLike|\*/);
      }
    }
  });

  it('gives the EBS CSI controller the driver’s tag-scoped volume rights and nothing else', () => {
    const { statements } = roleOf('production', 'ebs-csi-controller');
    expect(sids(statements)).toEqual(['Describe', 'CreateDriverVolumes', 'CreateDriverSnapshots', 'VolumesFromSnapshots', 'TagOnCreate', 'ManageDriverVolumes', 'AttachToClusterNodes']);
    const tag = shipped.namesOf('production').clusterTagKey;
    expect(statements.find((s) => s.Sid === 'CreateDriverVolumes')?.Condition).toEqual({ StringEquals: { 'aws:RequestTag/ebs.csi.aws.com/cluster': 'true', [`aws:RequestTag/${tag}`]: 'owned' } });
    expect(statements.find((s) => s.Sid === 'ManageDriverVolumes')?.Condition).toEqual({ StringEquals: { [`aws:ResourceTag/${tag}`]: 'owned' } });
    expect(actionsOf(statements).filter((a) => /^(autoscaling|s3|sqs|ssm|kms|iam):/.test(a))).toEqual([]);
  });

  it('lets cluster-autoscaler scale only groups with both the cluster and the autoscaler tag', () => {
    const { statements } = roleOf('staging', 'cluster-autoscaler');
    const names = shipped.namesOf('staging');
    expect(statements.find((s) => s.Sid === 'ScaleThisClustersWorkerGroups')?.Condition).toEqual({
      StringEquals: { [`aws:ResourceTag/${names.clusterTagKey}`]: 'owned', [`aws:ResourceTag/${names.autoscalerDiscoveryTags[names.autoscalerDiscoveryTags.length - 1]}`]: 'owned' },
    });
    expect(actionsOf(statements).filter((a) => a.startsWith('ec2:') && !/^ec2:(Describe|Get)/.test(a))).toEqual([]);
  });

  it('gives the termination handler its queue, the queue key through SQS and the cluster’s hooks', () => {
    const { statements } = roleOf('production', 'node-termination-handler');
    expect(sids(statements)).toEqual(['ReadQueue', 'DecryptQueueMessages', 'CompleteOwnHooks', 'DescribeInstances']);
    expect(statements[0].Resource).toMatch(/^\$\{aws_sqs_queue\..*\.arn\}$/);
    expect(statements[1].Condition).toEqual({ StringEquals: { 'kms:ViaService': `sqs.${shipped.cluster('production').region}.amazonaws.com` } });
  });
});

describe('the database’s workload role (postgres-backups)', () => {
  const bucketArnRef = (cluster: string) => {
    const [id] = stacks[cluster].resources('aws_s3_bucket').find(([, b]) => b.bucket === shipped.namesOf(cluster).appBackupBucket) as [string, Attributes];
    return `\${aws_s3_bucket.${id}.arn}`;
  };

  it('reads and writes only below the backup prefix of its own bucket, with the cluster key through S3 only', () => {
    const { statements } = roleOf('staging', 'postgres-backups');
    const names = shipped.namesOf('staging');
    const bucket = bucketArnRef('staging');
    expect(statements).toEqual([
      { Sid: 'ListBackupBucket', Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetBucketLocation'], Resource: bucket },
      { Sid: 'ReadWriteBackups', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'], Resource: `${bucket}/${names.appBackupArchive.bucketPrefix}*` },
      {
        Sid: 'UseClusterKeyThroughS3',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: expect.stringMatching(/^\$\{aws_kms_key\.kms_key_[A-Z0-9]+\.arn\}$/),
        Condition: { StringEquals: { 'kms:ViaService': `s3.${shipped.cluster('staging').region}.amazonaws.com` } },
      },
    ]);
    expect(actionsOf(statements).filter((a) => a.endsWith('*') || a.startsWith('iam:') || a.startsWith('ssm:'))).toEqual([]);
  });

  it('lets the standby read its primary’s replica bucket (the restore source, in its own region) and decrypt it with the replica-region key', () => {
    expect(shipped.failoverRoleOf('dr')?.role).toBe('standby');
    const replica = shipped.namesOf('production').appBackupReplicaBucket as string;
    const region = shipped.cluster('production').backups.replicaRegion as string;
    expect(region).toBe(shipped.cluster('dr').region);
    const { statements } = roleOf('dr', 'postgres-backups');
    expect(sids(statements)).toEqual(['ListBackupBucket', 'ReadWriteBackups', 'UseClusterKeyThroughS3', 'ListRestoreSource1', 'ReadRestoreSource1', 'DecryptRestoreSource1']);
    const arn = `arn:aws:s3:::${replica}`;
    expect(statements.slice(3)).toEqual([
      { Sid: 'ListRestoreSource1', Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetBucketLocation'], Resource: arn },
      { Sid: 'ReadRestoreSource1', Effect: 'Allow', Action: 's3:GetObject', Resource: `${arn}/postgres/*` },
      {
        Sid: 'DecryptRestoreSource1',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: `arn:aws:kms:${region}:\${local.account_id}:key/*`,
        Condition: { StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` }, StringLike: { 'kms:EncryptionContext:aws:s3:arn': [arn, `${arn}/*`] } },
      },
    ]);
  });

  it('matches the replication: the source stack encrypts replicas with a key in the region the standby decrypts in', () => {
    const replication = stacks.production.values('aws_s3_bucket_replication_configuration').find((r) => r.bucket === shipped.namesOf('production').appBackupBucket) as Attributes;
    const replicaKey = stacks.production.deref(replication.rule[0].destination.encryption_configuration.replica_kms_key_id);
    const replicaProvider = (stacks.production.json.provider.aws as Attributes[]).find((p) => `aws.${p.alias}` === replicaKey.provider) as Attributes;
    const decrypt = roleOf('dr', 'postgres-backups').statements.find((s) => s.Sid === 'DecryptRestoreSource1') as Attributes;
    expect(decrypt.Resource).toContain(`arn:aws:kms:${replicaProvider.region}:`);
  });

  it('lets the primary read the standby’s own bucket for fail-back, and staging restore from nothing', () => {
    const drBucket = shipped.namesOf('dr').appBackupBucket;
    const production = roleOf('production', 'postgres-backups').statements;
    expect(production.find((s) => s.Sid === 'ReadRestoreSource1')?.Resource).toBe(`arn:aws:s3:::${drBucket}/postgres/*`);
    expect(production.find((s) => s.Sid === 'DecryptRestoreSource1')?.Condition.StringEquals).toEqual({ 'kms:ViaService': `s3.${shipped.cluster('dr').region}.amazonaws.com` });
    expect(sids(roleOf('staging', 'postgres-backups').statements).filter((s) => s.includes('Restore'))).toEqual([]);
  });
});

describe('validation', () => {
  const names = shipped.namesOf('staging');
  const issuer = names.serviceAccountIssuer;
  const ctx: WorkloadPolicyContext = {
    region: 'r',
    accountId: 'a',
    clusterTagKey: 't',
    autoscalerClusterTagKey: 'u',
    nodeTerminationHandler: policyDocument(),
    appBackups: { bucketArn: 'b', prefix: 'p/', kmsKeyArn: 'k', restoreSources: [] },
  };
  const props = { providerArn: issuer.providerArn('123456789012'), issuerHost: issuer.host, audience: issuer.audience, identities: workloadIdentitiesOf(shipped.cluster('staging'), names), policies: workloadPolicies(ctx) };

  it('rejects a backup prefix that would open the whole bucket', () => {
    expect(() => workloadPolicies({ ...ctx, appBackups: { ...ctx.appBackups, prefix: '' } })).toThrow(
      'workloadPolicies: props.appBackups.prefix = ""; expected a key prefix ending in "/", such as "postgres/" (never the whole bucket)',
    );
  });

  it('rejects a restore source that is not a bucket name', () => {
    expect(() => workloadPolicies({ ...ctx, appBackups: { ...ctx.appBackups, restoreSources: [{ bucketName: 's3://x', region: 'r' }] } })).toThrow(
      'workloadPolicies: props.appBackups.restoreSources[0].bucketName = "s3://x"; expected an S3 bucket name',
    );
  });

  it('rejects no identities', () => {
    expect(() => new WorkloadRoles(bareStack(), 'w', { ...props, identities: [] })).toThrow('WorkloadRoles: props.identities = []; expected at least one workload identity');
  });

  it('rejects the same identity twice', () => {
    expect(() => new WorkloadRoles(bareStack(), 'w', { ...props, identities: [props.identities[0], props.identities[0]] })).toThrow(
      'WorkloadRoles: props.identities = "ebs-csi-controller"; expected each identity once (one role per service account)',
    );
  });

  it('rejects a wildcard subject', () => {
    const wild = { ...props.identities[0], subject: 'system:serviceaccount:kube-system:*' };
    expect(() => new WorkloadRoles(bareStack(), 'w', { ...props, identities: [wild] })).toThrow(
      'WorkloadRoles: props.identities.ebs-csi-controller.subject = "system:serviceaccount:kube-system:*"; expected an exact system:serviceaccount:<namespace>:<name>, no wildcard',
    );
  });

  it('rejects an issuer host with a scheme or wildcard', () => {
    expect(() => new WorkloadRoles(bareStack(), 'w', { ...props, issuerHost: issuer.url })).toThrow(`WorkloadRoles: props.issuerHost = "${issuer.url}"; expected the issuer URL without https:// and without wildcards`);
  });
});
