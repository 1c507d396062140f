import { describe, expect, it } from 'vitest';
import { bootstrapNames, defaultPlatform, NODE_BOOTSTRAP_GRANTS } from '@platform/platform-config';
import { DEFAULT_OBJECTIVES, formatMarkdown, runHaCheck, type AzScenario } from '../src';
import { Findings } from '../src/findings';
import { identityAnalysis } from '../src/private/identity-analysis';
import { identityModel, type DeclaredLegacyUser } from '../src/private/identity-model';
import { loadTerraform } from '../src/terraform';
import { pinnedChartVersions } from '../bench/pinned-charts';
import { CLUSTER, HOST, ISSUER, ROLE, ROLE_ARN, SUBJECT, identityFixture, webIdentityTrust, type IdentityFixtureOptions } from './fixtures/identity';

const check = (o: IdentityFixtureOptions = {}) => {
  const f = identityFixture(o);
  return runHaCheck({ terraform: [f.terraform], manifests: f.manifests, objectives: DEFAULT_OBJECTIVES, cluster: CLUSTER });
};
type Report = ReturnType<typeof check>;
/** The node-role findings other than the missing fence itself (identity.imds-unfenced, judged on its own below). */
const inherited = (r: Report) => identity(r).filter((f) => f.id !== 'identity.imds-unfenced');
const identity = (r: Report) => r.findings.filter((f) => f.id.startsWith('identity.')).map((f) => ({ id: f.id, severity: f.severity, subject: f.subject, message: f.message }));
const stsBlocked = (r: Report) => r.findings.filter((f) => f.id === 'flow.blocked' && f.subject.startsWith('pod with a web identity → STS'));
const AUD = { [`${HOST}:aud`]: 'sts.amazonaws.com' };

describe('who can act on AWS (identity report)', () => {
  it('a correct cluster: env-wired pod, exact trust, bootstrap-only node roles, IMDSv2 hop 1, the two discovery objects public, STS through its endpoint', () => {
    const report = check();
    expect(identity(report)).toEqual([]);
    expect(report.findings.filter((f) => f.id === 'flow.blocked')).toEqual([]);
    expect(report.summary.objectivesMet).toBe(true);
    expect(report.identities).toEqual({
      issuerHost: HOST,
      provider: 'production-cluster/aws_iam_openid_connect_provider.cluster',
      webhook: undefined,
      rows: [{ workload: 'Deployment/apps/web', serviceAccount: 'web', role: ROLE, path: 'web identity (env AWS_ROLE_ARN + projected token)', actions: ['s3:GetObject, PutObject on arn:aws:s3:::backups/web/*'] }],
    });
    const sts = report.flows.filter((f) => f.id === 'pod-to-sts');
    expect(sts.map((f) => f.from)).toEqual(['production-general-a', 'production-general-b', 'production-general-c']);
    expect(sts[0]).toMatchObject({ ok: true, to: 'sts.ap-northeast-2.amazonaws.com (Deployment/apps/web)', path: ['production-general-a', 'DNS sts.ap-northeast-2.amazonaws.com → sts (private DNS)', 'local route (VPC)', 'sts (ap-northeast-2a, ap-northeast-2b, ap-northeast-2c)'] });
    for (const s of report.scenarios.filter((x): x is AzScenario => x.kind === 'az-loss')) expect(s.flows.blocked).toEqual([]);
    expect(formatMarkdown(report)).toContain(`| Deployment/apps/web | web | ${ROLE} | web identity (env AWS_ROLE_ARN + projected token) | s3:GetObject, PutObject on arn:aws:s3:::backups/web/* |`);
  });

  it('a pod wiring a role whose trust names another service account: AssumeRoleWithWebIdentity is denied', () => {
    const report = check({ trustCondition: { StringEquals: { [`${HOST}:sub`]: ISSUER.subject('apps', 'other'), ...AUD } } });
    expect(identity(report)).toEqual([
      { id: 'identity.trust-mismatch', severity: 'error', subject: 'Deployment/apps/web', message: `Deployment/apps/web runs as ${SUBJECT} and wires ${ROLE}, whose trust does not admit it (it names system:serviceaccount:apps:other): AssumeRoleWithWebIdentity is denied` },
    ]);
    expect(report.summary.objectivesMet).toBe(false);
  });

  it("StringLike system:serviceaccount:kube-system:* is caught, and a wildcard that happens to admit the pod's own account is caught too", () => {
    const kubeSystem = webIdentityTrust({ StringLike: { [`${HOST}:sub`]: 'system:serviceaccount:kube-system:*' }, StringEquals: AUD });
    const report = check({ extraRoles: { ks: { name: 'production-irsa-kube-system', assume_role_policy: kubeSystem } } });
    expect(identity(report)).toEqual([
      { id: 'identity.trust-wildcard', severity: 'error', subject: 'production-irsa-kube-system', message: `production-irsa-kube-system trusts StringLike ${HOST}:sub = system:serviceaccount:kube-system:*: every service account the pattern matches can assume it` },
    ]);
    const own = identity(check({ trustCondition: { StringLike: { [`${HOST}:sub`]: 'system:serviceaccount:apps:*' }, StringEquals: AUD } }));
    expect(own.map((f) => [f.id, f.subject])).toEqual([['identity.trust-wildcard', ROLE]]);
    // No sub condition at all: every service account of the issuer.
    expect(identity(check({ trustCondition: { StringEquals: AUD } }))[0]).toMatchObject({ id: 'identity.trust-wildcard', message: `${ROLE} trusts every service account of the issuer: no sub condition` });
  });

  it('a trust without the aud condition', () => {
    expect(identity(check({ trustCondition: { StringEquals: { [`${HOST}:sub`]: SUBJECT } } }))).toEqual([
      { id: 'identity.trust-no-audience', severity: 'error', subject: ROLE, message: `${ROLE} has no StringEquals condition ${HOST}:aud = sts.amazonaws.com: a token minted for any audience (another service's) can assume it` },
    ]);
  });

  it("a web-identity role federated to another provider: not the cluster's own, and the pod's tokens are not admitted", () => {
    const other = 'arn:aws:iam::111111111111:oidc-provider/oidc.eks.ap-northeast-2.amazonaws.com/id/EXAMPLE';
    expect(identity(check({ federated: other }))).toEqual([
      { id: 'identity.foreign-provider', severity: 'error', subject: ROLE, message: `${ROLE} trusts web identities of ${other}, not the cluster's own OIDC provider (oidc-provider/${HOST}): tokens another issuer signs can assume it` },
      { id: 'identity.trust-mismatch', severity: 'error', subject: 'Deployment/apps/web', message: `Deployment/apps/web runs as ${SUBJECT} and wires ${ROLE}, whose trust does not admit it (no statement federates the cluster's provider (oidc-provider/${HOST})): AssumeRoleWithWebIdentity is denied` },
    ]);
  });

  it('a provider in another stack (a cross-stack reference Terraform resolves at apply) is not held against the trust', () => {
    expect(identity(check({ federated: '${data.terraform_remote_state.cross-stack-reference-input-issuer.outputs.provider_arn}' }))).toEqual([]);
  });

  it('an IAM user and its access key are static keys', () => {
    const report = check({ staticKeys: true });
    expect(identity(report)).toEqual([
      { id: 'identity.static-keys', severity: 'error', subject: 'production-cluster/aws_iam_access_key.backups', message: "static keys: access key of IAM user production-app-backups (its secret is in the Terraform state): long-lived credentials outside any pod's identity (they never expire and leak with every copy)" },
      { id: 'identity.static-keys', severity: 'error', subject: 'production-cluster/aws_iam_user.backups', message: "static keys: IAM user production-app-backups: long-lived credentials outside any pod's identity (they never expire and leak with every copy)" },
    ]);
    expect(report.identities?.rows[0]).toMatchObject({ role: 'IAM user production-app-backups', path: 'static keys' });
  });

  it('the backup user a migrating cluster declares (serviceAccountIdentity before complete) is a warning, by exact name; an access key stays an error', () => {
    const f = identityFixture({ staticKeys: true });
    const judge = (declared?: DeclaredLegacyUser) => {
      const findings = new Findings();
      identityAnalysis(identityModel(loadTerraform([f.terraform]), [], [], undefined, HOST, undefined, declared), findings);
      return findings.list().map((x) => [x.id, x.severity, x.subject]);
    };
    expect(judge({ name: 'production-app-backups', stage: 'accept-issuer' })).toEqual([
      ['identity.static-keys', 'error', 'production-cluster/aws_iam_access_key.backups'],
      ['identity.static-keys-migrating', 'warning', 'production-cluster/aws_iam_user.backups'],
    ]);
    expect(judge({ name: 'production-other-user', stage: 'accept-issuer' }).map(([id]) => id)).toEqual(['identity.static-keys', 'identity.static-keys']);
    expect(judge().map(([id]) => id)).toEqual(['identity.static-keys', 'identity.static-keys']);
  });

  it('IMDSv2 with hop limit 1 stops ordinary pods but not a hostNetwork one: it inherits what the node role allows beyond the bootstrap', () => {
    const extra = [{ Effect: 'Allow', Action: ['autoscaling:SetDesiredCapacity', 'ec2:CreateVolume'], Resource: '*' }];
    const report = check({ hostNetworkDaemonSet: true, workerRoleExtra: extra });
    expect(inherited(report)).toEqual([
      {
        id: 'identity.imds-inherits',
        severity: 'warning',
        subject: 'DaemonSet/apps/node-agent → production-worker',
        message: 'DaemonSet/apps/node-agent (hostNetwork) on production-general-a, production-general-b, production-general-c reaches IMDS and inherits production-worker beyond what the bootstrap needs: autoscaling:SetDesiredCapacity on *; ec2:CreateVolume on *',
      },
    ]);
    expect(report.identities?.rows.find((r) => r.workload === 'DaemonSet/apps/node-agent')).toMatchObject({ role: 'production-worker', path: 'node role via IMDS (hostNetwork)' });
    // A bootstrap-only node role: the hostNetwork pod still reaches IMDS (a table row) but inherits nothing extra.
    const clean = check({ hostNetworkDaemonSet: true });
    expect(inherited(clean)).toEqual([]);
    expect(clean.identities?.rows.map((r) => r.path)).toContain('node role via IMDS (hostNetwork)');
  });

  it("what the bootstrap needs is platform-config's NODE_BOOTSTRAP_GRANTS (what the node policies are built from): its actions are not held against a node role, anything else is", () => {
    // Every action the grants list, on a worker role a hostNetwork pod reaches: nothing beyond the bootstrap.
    // (The bundle read on its own object: s3:GetObject on * would read the etcd snapshots, which is judged apart.)
    const granted = [
      { Effect: 'Allow', Action: [...NODE_BOOTSTRAP_GRANTS.sessionManager, ...NODE_BOOTSTRAP_GRANTS.pullImages], Resource: '*' },
      { Effect: 'Allow', Action: [...NODE_BOOTSTRAP_GRANTS.fetchBootstrapBundle], Resource: 'arn:aws:s3:::bootstrap-bundles/worker.tar.gz' },
    ];
    expect(inherited(check({ hostNetworkDaemonSet: true, workerRoleExtra: granted }))).toEqual([]);
    // A wildcard over a service the bootstrap uses a few actions of is more than the grants: held against the role.
    const wider = [{ Effect: 'Allow', Action: ['ssmmessages:*', 's3:AbortMultipartUpload'], Resource: '*' }];
    expect(inherited(check({ hostNetworkDaemonSet: true, workerRoleExtra: wider }))[0]?.message).toMatch(/beyond what the bootstrap needs: s3:AbortMultipartUpload on \*; ssmmessages:\* on \*$|beyond what the bootstrap needs: ssmmessages:\* on \*; s3:AbortMultipartUpload on \*$/);
  });

  it('a node role that reads the etcd snapshots (pki/sa.key inside) makes every pod reaching its IMDS a token minter for any service account', () => {
    const names = defaultPlatform().namesOf(CLUSTER);
    const prefix = bootstrapNames(names).etcdSnapshotPrefix;
    const read = (resource: string) => [{ Effect: 'Allow', Action: 's3:GetObject', Resource: resource }];
    // s3:GetObject is a bootstrap action, so before this only an extra beyond it raised the finding: the snapshot read alone now does.
    const report = check({ hostNetworkDaemonSet: true, workerRoleExtra: read(`arn:aws:s3:::${names.etcdBackupBucket}/${prefix}/*`) });
    const snapshots = `s3:GetObject on arn:aws:s3:::${names.etcdBackupBucket}/${prefix}/*`;
    expect(inherited(report)).toEqual([
      {
        id: 'identity.imds-mints',
        severity: 'error',
        subject: 'DaemonSet/apps/node-agent → production-worker',
        message: `DaemonSet/apps/node-agent (hostNetwork) on production-general-a, production-general-b, production-general-c reaches IMDS and inherits production-worker: it can read the etcd snapshots (${snapshots}), which hold pki/sa.key: so it can mint tokens for every workload role (no IMDS fence on the node)`,
      },
    ]);
    expect(report.findings.find((f) => f.id === 'identity.imds-mints')?.fix).toContain('restore-only principal');
    // The whole bucket covers the prefix too (IAM's wildcard match), and an extra beyond the bootstrap is named with it.
    const wide = check({ hostNetworkDaemonSet: true, workerRoleExtra: [...read(`arn:aws:s3:::${names.etcdBackupBucket}/*`), { Effect: 'Allow', Action: 'ec2:CreateVolume', Resource: '*' }] });
    expect(inherited(wide)[0].message).toMatch(/beyond what the bootstrap needs: .*ec2:CreateVolume on \*; it can read the etcd snapshots/);
    // Another prefix of the bucket (the issuer documents, say), or a Deny on the snapshots: no snapshot read, no finding.
    expect(inherited(check({ hostNetworkDaemonSet: true, workerRoleExtra: read(`arn:aws:s3:::${names.etcdBackupBucket}/other/*`) }))).toEqual([]);
    const denied = [...read(`arn:aws:s3:::${names.etcdBackupBucket}/*`), { Effect: 'Deny', Action: 's3:GetObject', Resource: `arn:aws:s3:::${names.etcdBackupBucket}/${prefix}/*` }];
    expect(inherited(check({ hostNetworkDaemonSet: true, workerRoleExtra: denied }))).toEqual([]);
    // No pod reaches the role's IMDS (hop limit 1, no hostNetwork pod): the read is nobody's.
    expect(inherited(check({ workerRoleExtra: read(`arn:aws:s3:::${names.etcdBackupBucket}/${prefix}/*`) }))).toEqual([]);
  });

  it('writing the issuer JWKS or reading the certificate key makes a pod that reaches IMDS a token minter too; the IMDS fence stops every pod (an exempt uid is no fence)', () => {
    const names = defaultPlatform().namesOf(CLUSTER);
    const jwks = `arn:aws:s3:::${names.serviceAccountIssuer.bucket}/${names.serviceAccountIssuer.jwksKey}`;
    const certificateKey = `arn:aws:ssm:${defaultPlatform().cluster(CLUSTER).region}:<account>:parameter${names.ssm.certificateKey}`;
    const write = [{ Effect: 'Allow', Action: 's3:PutObject', Resource: `arn:aws:s3:::${names.serviceAccountIssuer.bucket}/*` }];
    const read = [{ Effect: 'Allow', Action: 'ssm:GetParameter', Resource: `arn:aws:ssm:*:*:parameter${names.ssm.certificateKey.replace(/[^/]+$/, '*')}` }];
    const issuer = inherited(check({ hostNetworkDaemonSet: true, workerRoleExtra: write }));
    expect(issuer.map((f) => [f.id, f.severity])).toEqual([['identity.imds-mints', 'error']]);
    expect(issuer[0].message).toContain(`overwrite the issuer's JWKS (s3:PutObject on ${jwks}) with a key of its own: so it can mint tokens for every workload role (no IMDS fence on the node)`);
    const join = inherited(check({ hostNetworkDaemonSet: true, workerRoleExtra: read }));
    expect(join.map((f) => f.id)).toEqual(['identity.imds-mints']);
    expect(join[0].message).toContain(`read kubeadm's certificate key (ssm:GetParameter on ${certificateKey})`);
    // The fence in the user data (no exempt uid): no hostNetwork pod reaches IMDS, whatever uid it claims.
    for (const hostNetworkUid of [65534, 64512, 0, undefined]) {
      const fenced = check({ hostNetworkDaemonSet: true, hostNetworkUid, workerImdsFence: {}, workerRoleExtra: [...write, ...read] });
      expect(inherited(fenced)).toEqual([]);
      expect(fenced.identities?.rows.filter((r) => r.workload === 'DaemonSet/apps/node-agent')).toEqual([]);
    }
    // The older fence exempted one uid: a pod claiming it still mints, and the finding says why.
    const older = { workerImdsFence: { exemptUid: 64512 } };
    const claimed = check({ hostNetworkDaemonSet: true, hostNetworkUid: 64512, ...older, workerRoleExtra: write });
    expect(inherited(claimed).map((f) => f.id)).toEqual(['identity.imds-mints']);
    expect(inherited(claimed)[0].message).toContain("the node's IMDS fence exempts uid 64512, which any pod may run as");
    // Another uid is still dropped by it.
    expect(inherited(check({ hostNetworkDaemonSet: true, hostNetworkUid: 65534, ...older, workerRoleExtra: write }))).toEqual([]);
    // IMDS_FENCE_UID without IMDS_FENCE_CGROUP: node-prep.sh arms no fence at all, every uid reaches IMDS.
    for (const uid of [64512, 65534]) {
      const uidOnly = inherited(check({ hostNetworkDaemonSet: true, hostNetworkUid: uid, workerImdsFenceUid: 64512, workerRoleExtra: write }));
      expect(uidOnly.map((f) => f.id)).toEqual(['identity.imds-mints']);
      expect(uidOnly[0].message).toContain('(no IMDS fence on the node)');
    }
  });

  it('hop limit 2 (read from the launch template) lets every pod on the node reach IMDS', () => {
    const report = check({ workerHopLimit: 2, workerRoleExtra: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' }] });
    const web = inherited(report).find((f) => f.subject === 'Deployment/apps/web → production-worker');
    expect(web?.message).toBe('Deployment/apps/web (IMDS hop limit 2) on production-general-a, production-general-b, production-general-c reaches IMDS and inherits production-worker beyond what the bootstrap needs: secretsmanager:GetSecretValue on *');
    const extra = [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' }];
    const subjects = (o: IdentityFixtureOptions) => inherited(check({ ...o, workerRoleExtra: extra })).map((f) => f.subject);
    // IMDSv1 allowed (http_tokens optional), and no metadata_options at all (EC2's defaults: optional): every pod.
    expect(subjects({ workerMetadata: { http_endpoint: 'enabled', http_tokens: 'optional', http_put_response_hop_limit: 1 } })).toContain('Deployment/apps/web → production-worker');
    expect(subjects({ workerMetadata: null })).toContain('Deployment/apps/web → production-worker');
    // IMDS switched off: not even a hostNetwork pod.
    expect(subjects({ hostNetworkDaemonSet: true, workerMetadata: { http_endpoint: 'disabled' } })).toEqual([]);
  });

  it('with pods on web identity (platform-config imdsFenced) every pod that reaches a node\'s IMDS is an error, a bootstrap-only worker role too (it reads the join token)', () => {
    const unfenced = identity(check({ hostNetworkDaemonSet: true }));
    expect(unfenced).toEqual([
      {
        id: 'identity.imds-unfenced',
        severity: 'error',
        subject: 'DaemonSet/apps/node-agent → production-worker',
        message: "DaemonSet/apps/node-agent (hostNetwork) on production-general-a, production-general-b, production-general-c reaches IMDS and acts as production-worker (the join material among its reads), though the cluster's pods use web identity and every node must fence IMDS off (no IMDS fence on the node)",
      },
    ]);
    // The older uid-only form is no fence (node-prep.sh arms none without IMDS_FENCE_CGROUP); the fence itself holds.
    expect(identity(check({ hostNetworkDaemonSet: true, workerImdsFenceUid: 64512 })).map((f) => f.id)).toEqual(['identity.imds-unfenced']);
    expect(identity(check({ hostNetworkDaemonSet: true, workerImdsFence: {} }))).toEqual([]);
    // Hop limit 2: every pod, fence or not (the fence drops host-network sockets only).
    expect(identity(check({ workerHopLimit: 2, workerImdsFence: {} })).map((f) => [f.id, f.subject])).toContainEqual(['identity.imds-unfenced', 'Deployment/apps/web → production-worker']);
  });

  it('an aud condition under StringLike with an exact value (no wildcard) is the exact match IAM makes of it; with a wildcard it is not', () => {
    const sub = { [`${HOST}:sub`]: SUBJECT };
    expect(identity(check({ trustCondition: { StringEquals: sub, StringLike: { [`${HOST}:aud`]: 'sts.amazonaws.com' } } }))).toEqual([]);
    expect(identity(check({ trustCondition: { StringEquals: sub, StringLike: { [`${HOST}:aud`]: 'sts.*' } } })).map((f) => f.id)).toEqual(['identity.trust-no-audience']);
  });

  it('the OIDC provider needs exactly the two discovery objects public: none, everything, or a public access block that refuses them', () => {
    const prefix = `the OIDC provider for ${HOST} needs STS to fetch the discovery objects of ${ISSUER.bucket}: `;
    const message = (o: IdentityFixtureOptions) => identity(check(o)).map((f) => [f.id, f.severity, f.subject, f.message]);
    const subject = 'production-cluster/aws_iam_openid_connect_provider.cluster';
    expect(message({ issuerPolicy: 'none' })).toEqual([['identity.issuer-not-public', 'error', subject, `${prefix}.well-known/openid-configuration and openid/v1/jwks not readable anonymously through the bucket policy`]]);
    expect(message({ issuerPolicy: 'everything' })).toEqual([['identity.issuer-not-public', 'error', subject, `${prefix}other objects (s3:GetObject on more than the two keys) public too (exactly the two discovery objects must be)`]]);
    expect(message({ restrictPublicBuckets: true })).toEqual([['identity.issuer-not-public', 'error', subject, `${prefix}its public access block sets restrict_public_buckets = true (anonymous requests are refused)`]]);
  });

  it('annotation-only wiring works through a pod identity webhook and is inert without one', () => {
    expect(identity(check({ wiring: 'annotation' }))).toEqual([
      {
        id: 'identity.annotation-inert',
        severity: 'error',
        subject: 'Deployment/apps/web',
        message: `Deployment/apps/web: service account web is annotated with ${ROLE_ARN}, but no pod identity webhook runs in the cluster: nothing injects AWS_ROLE_ARN or a token, so the SDK falls back to the node's IMDS (the node role, or no credentials with hop limit 1)`,
      },
    ]);
    const hooked = check({ wiring: 'annotation', webhook: true });
    expect(identity(hooked)).toEqual([]);
    expect(hooked.identities?.rows[0]).toMatchObject({ workload: 'Deployment/apps/web', role: ROLE, path: 'web identity (role annotation, MutatingWebhookConfiguration/pod-identity-webhook)' });
    // Both shapes at once are judged by the env (what the SDK reads first).
    expect(identity(check({ wiring: 'env+annotation' }))).toEqual([]);
  });

  it('a token file that is not a projected token for sts.amazonaws.com', () => {
    expect(identity(check({ tokenAudience: 'vault' }))).toEqual([
      { id: 'identity.token-audience', severity: 'error', subject: 'Deployment/apps/web', message: 'Deployment/apps/web: AWS_WEB_IDENTITY_TOKEN_FILE /var/run/secrets/sts.amazonaws.com/serviceaccount/token is a projected token for audience vault: STS accepts only sts.amazonaws.com' },
    ]);
  });

  it('a CloudNativePG Cluster: serviceAccountTemplate, env and projectedVolumeTemplate; its service account is the Cluster name', () => {
    const dbRole = ISSUER.workloadRole('orders-db');
    const cnpg = (sub: string) => ({
      extraRoles: { db: { name: dbRole, assume_role_policy: webIdentityTrust({ StringEquals: { [`${HOST}:sub`]: sub, ...AUD } }) } },
      extraObjects: [
        {
          apiVersion: 'postgresql.cnpg.io/v1',
          kind: 'Cluster',
          metadata: { name: 'orders-db', namespace: 'apps' },
          spec: {
            instances: 3,
            storage: { size: '10Gi', storageClass: 'gp3' },
            serviceAccountTemplate: { metadata: { annotations: { 'eks.amazonaws.com/role-arn': `arn:aws:iam::111111111111:role/${dbRole}` } } },
            env: [
              { name: 'AWS_ROLE_ARN', value: `arn:aws:iam::111111111111:role/${dbRole}` },
              { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: '/projected/aws/token' },
            ],
            projectedVolumeTemplate: { sources: [{ serviceAccountToken: { audience: 'sts.amazonaws.com', path: 'aws/token', expirationSeconds: 3600 } }] },
          },
        },
      ],
    });
    const ok = check(cnpg(ISSUER.subject('apps', 'orders-db')));
    expect(identity(ok)).toEqual([]);
    expect(ok.identities?.rows.find((r) => r.workload === 'Cluster/apps/orders-db')).toMatchObject({ serviceAccount: 'orders-db', role: dbRole });
    expect(ok.flows.some((f) => f.id === 'pod-to-sts' && f.to.includes('2 workloads'))).toBe(true);
    const wrong = identity(check(cnpg(ISSUER.subject('apps', 'postgres'))));
    expect(wrong.map((f) => [f.id, f.subject])).toEqual([['identity.trust-mismatch', 'Cluster/apps/orders-db']]);
  });

  it("HelmRelease values: a service-account block with the role annotation is checked by its name, or reported when the chart picks the name", () => {
    const release = (serviceAccount: Record<string, unknown>) => ({
      apiVersion: 'helm.toolkit.fluxcd.io/v2',
      kind: 'HelmRelease',
      metadata: { name: 'metrics-server', namespace: 'apps' },
      spec: { chart: { spec: { chart: 'metrics-server', version: pinnedChartVersions().get('metrics-server') } }, values: { replicas: 3, serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': ROLE_ARN }, ...serviceAccount } } },
    });
    const named = check({ webhook: true, trustCondition: { StringEquals: { [`${HOST}:sub`]: [SUBJECT, ISSUER.subject('apps', 'metrics-server')], ...AUD } }, extraObjects: [release({ name: 'metrics-server' })] });
    expect(identity(named)).toEqual([]);
    expect(named.identities?.rows.find((r) => r.workload === 'HelmRelease/apps/metrics-server')).toMatchObject({ serviceAccount: 'metrics-server', role: ROLE });
    // A chart ha-check has no extractor for is still read for its wiring (one pod template from the common keys).
    const other = { ...release({ name: 'metrics-server' }), spec: { chart: { spec: { chart: 'some-backup-tool' } }, values: { serviceAccount: { name: 'metrics-server', annotations: { 'eks.amazonaws.com/role-arn': ROLE_ARN } } } } };
    expect(identity(check({ webhook: true, extraObjects: [other] }))).toEqual([
      { id: 'identity.trust-mismatch', severity: 'error', subject: 'HelmRelease/apps/metrics-server', message: `HelmRelease/apps/metrics-server runs as system:serviceaccount:apps:metrics-server and wires ${ROLE}, whose trust does not admit it (it names ${SUBJECT}): AssumeRoleWithWebIdentity is denied` },
    ]);
    const unnamed = identity(check({ webhook: true, extraObjects: [release({})] }));
    expect(unnamed).toEqual([
      { id: 'identity.subject-unknown', severity: 'warning', subject: 'HelmRelease/apps/metrics-server', message: `HelmRelease/apps/metrics-server wires ${ROLE} from chart values that leave the service account's name to the chart: whether ${ROLE}'s trust names it is not decided` },
    ]);
  });
});

describe('both shipped shapes of a chart: env through a post-renderer patch, annotation on a ServiceAccount the values name', () => {
  const CSI_ROLE = ISSUER.workloadRole('ebs-csi-controller');
  const CSI_ARN = `arn:aws:iam::111111111111:role/${CSI_ROLE}`;
  const csiSubject = ISSUER.subject('apps', 'ebs-csi-controller-sa');
  const csiRole = (sub: string) => ({ csi: { name: CSI_ROLE, assume_role_policy: webIdentityTrust({ StringEquals: { [`${HOST}:sub`]: sub, ...AUD } }) } });
  const serviceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'ebs-csi-controller-sa', namespace: 'apps', annotations: { 'eks.amazonaws.com/role-arn': CSI_ARN } } };
  const envPatch = [
    { op: 'add', path: '/spec/template/spec/volumes/-', value: { name: 'aws-token', projected: { sources: [{ serviceAccountToken: { audience: 'sts.amazonaws.com', path: 'token', expirationSeconds: 86400 } }] } } },
    { op: 'add', path: '/spec/template/spec/containers/0/volumeMounts/-', value: { name: 'aws-token', mountPath: '/var/run/secrets/sts.amazonaws.com/serviceaccount' } },
    { op: 'add', path: '/spec/template/spec/containers/0/env/-', value: { name: 'AWS_ROLE_ARN', value: CSI_ARN } },
    { op: 'add', path: '/spec/template/spec/containers/0/env/-', value: { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: '/var/run/secrets/sts.amazonaws.com/serviceaccount/token' } },
  ];
  const release = (patch: boolean) => ({
    apiVersion: 'helm.toolkit.fluxcd.io/v2',
    kind: 'HelmRelease',
    metadata: { name: 'ebs-csi-irsa', namespace: 'apps' },
    spec: {
      chart: { spec: { chart: 'aws-ebs-csi-driver', version: pinnedChartVersions().get('aws-ebs-csi-driver') } },
      values: { controller: { replicaCount: 3, serviceAccount: { create: false, name: 'ebs-csi-controller-sa' } } },
      ...(patch ? { postRenderers: [{ kustomize: { patches: [{ target: { kind: 'Deployment', name: 'ebs-csi-controller' }, patch: JSON.stringify(envPatch) }] } }] } : {}),
    },
  });
  const row = (r: Report) => r.identities?.rows.find((x) => x.workload === 'HelmRelease/apps/ebs-csi-irsa:controller');

  it('env from a post-renderer patch: a web identity without any webhook, the trust checked against the named account', () => {
    const ok = check({ extraRoles: csiRole(csiSubject), extraObjects: [serviceAccount, release(true)] });
    expect(identity(ok)).toEqual([]);
    expect(row(ok)).toMatchObject({ serviceAccount: 'ebs-csi-controller-sa', role: CSI_ROLE, path: 'web identity (env AWS_ROLE_ARN + projected token)' });
    // The node DaemonSet is not wired: no row of its own.
    expect(ok.identities?.rows.some((x) => x.workload === 'HelmRelease/apps/ebs-csi-irsa:node')).toBe(false);
    const wrong = identity(check({ extraRoles: csiRole(ISSUER.subject('kube-system', 'ebs-csi-controller-sa')), extraObjects: [serviceAccount, release(true)] }));
    expect(wrong.map((f) => [f.id, f.subject])).toEqual([['identity.trust-mismatch', 'HelmRelease/apps/ebs-csi-irsa:controller']]);
  });

  it('annotation only (the ServiceAccount object the values name) and no webhook: inert', () => {
    const inert = identity(check({ extraRoles: csiRole(csiSubject), extraObjects: [serviceAccount, release(false)] }));
    expect(inert.map((f) => [f.id, f.subject])).toEqual([['identity.annotation-inert', 'HelmRelease/apps/ebs-csi-irsa:controller']]);
    const hooked = check({ webhook: true, extraRoles: csiRole(csiSubject), extraObjects: [serviceAccount, release(false)] });
    expect(identity(hooked)).toEqual([]);
    expect(row(hooked)?.path).toBe('web identity (role annotation, MutatingWebhookConfiguration/pod-identity-webhook)');
  });
});

describe('pods must reach STS', () => {
  it('private subnets with no route out and no STS endpoint: blocked in the normal state at each route table, with the fix', () => {
    const report = check({ sts: 'none', noDefaultRoutes: true });
    const blocked = stsBlocked(report);
    expect(blocked.map((f) => [f.severity, f.subject])).toEqual([
      ['error', 'pod with a web identity → STS: route table of production-private-a'],
      ['error', 'pod with a web identity → STS: route table of production-private-b'],
      ['error', 'pod with a web identity → STS: route table of production-private-c'],
    ]);
    expect(blocked[0].message).toBe(
      'pod with a web identity → STS (TCP 443) is dropped in the normal state at route table of production-private-a: no default route and no STS interface endpoint with private DNS: sts.ap-northeast-2.amazonaws.com is out of reach, so AssumeRoleWithWebIdentity fails and the pods get no AWS credentials (production-general-a → sts.ap-northeast-2.amazonaws.com (Deployment/apps/web))',
    );
    expect(blocked[0].fix).toBe("Add an STS interface VPC endpoint (com.amazonaws.ap-northeast-2.sts, private DNS on, a subnet in every AZ, its security group admitting TCP 443 from the nodes) or route 0.0.0.0/0 to the AZ's NAT gateway.");
    expect(report.summary.objectivesMet).toBe(false);
  });

  it('an SDK on the global sts.amazonaws.com (AWS_STS_REGIONAL_ENDPOINTS=legacy) is not answered by the regional endpoint: with no route out it is blocked', () => {
    const blocked = stsBlocked(check({ stsLegacy: true, noDefaultRoutes: true }));
    expect(blocked.map((f) => f.subject)).toEqual(['pod with a web identity → STS: route table of production-private-a', 'pod with a web identity → STS: route table of production-private-b', 'pod with a web identity → STS: route table of production-private-c']);
    expect(blocked[0].message).toBe(
      'pod with a web identity → STS (TCP 443) is dropped in the normal state at route table of production-private-a: no default route, and the global sts.amazonaws.com (AWS_STS_REGIONAL_ENDPOINTS=legacy) is not what an STS interface endpoint answers for, so AssumeRoleWithWebIdentity fails and the pods get no AWS credentials (production-general-a → sts.amazonaws.com (Deployment/apps/web))',
    );
    expect(blocked[0].fix).toBe('Set AWS_STS_REGIONAL_ENDPOINTS=regional on the pods (an STS interface endpoint answers only for sts.ap-northeast-2.amazonaws.com), or route 0.0.0.0/0 to the AZ\'s NAT gateway.');
    // The same pods on the regional name reach the endpoint without any route out.
    expect(stsBlocked(check({ noDefaultRoutes: true }))).toEqual([]);
  });

  it('without an endpoint the per-AZ NATs carry it (every state passes); one shared NAT is lost with its AZ', () => {
    const nat = check({ sts: 'none' });
    expect(stsBlocked(nat)).toEqual([]);
    expect(nat.flows.find((f) => f.id === 'pod-to-sts')?.path).toEqual(['production-general-a', 'production-nat-a (NAT in ap-northeast-2a)', 'sts.ap-northeast-2.amazonaws.com']);
    const single = stsBlocked(check({ sts: 'none', singleNat: true }));
    expect(single.map((f) => [f.subject, f.scenarios])).toEqual([['pod with a web identity → STS: production-nat-a', ['az-loss:ap-northeast-2a']]]);
    expect(single[0].message).toMatch(/after losing ap-northeast-2a at production-nat-a: its only way out is the NAT in the lost AZ ap-northeast-2a \(production-general-b → /);
  });

  it('an endpoint in one AZ only is lost with that AZ; an endpoint whose security group admits nothing blocks every state', () => {
    const oneAz = stsBlocked(check({ sts: 'endpoint-one-az' }));
    expect(oneAz.map((f) => [f.severity, f.subject, f.scenarios])).toEqual([['error', 'pod with a web identity → STS: sts', ['az-loss:ap-northeast-2a']]]);
    expect(oneAz[0].message).toMatch(/dropped after losing ap-northeast-2a at sts: sts has no subnet left after losing ap-northeast-2a/);
    const closed = stsBlocked(check({ sts: 'endpoint-closed' }));
    expect(closed.map((f) => f.subject)).toEqual(['pod with a web identity → STS: security group production-sts-endpoint of sts']);
    expect(closed[0].fix).toBe("Admit TCP 443 from the nodes' security group (production-worker) in production-sts-endpoint.");
  });
});
