import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bootstrapNames, defaultPlatform, ROLE_ARN_ANNOTATION, STS_AUDIENCE, workloadIdentitiesOf } from '@platform/platform-config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { synthInfra } from '../src/main';
import { evaluate, principalMatches, type Json, type Statement } from './iam-model';

/*
 * Both halves of IRSA, checked against each other on every shipped cluster: the manifests Flux
 * applies (clusters/<name>/, what `npm run synth` committed) and the cluster's Terraform. Every
 * service account the manifests give a role ARN must have exactly that role in Terraform,
 * trusted for exactly that subject; no role may be left without its service account; and no
 * other object may mount an STS-audience token or set AWS_ROLE_ARN. Then the pod-level
 * question the node-role shrink answers: which principal can create an EBS volume now.
 */

const ACCOUNT = '123456789012';
const platform = defaultPlatform();
const CLUSTERS_DIR = resolve(__dirname, '../../../clusters');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      const path = join(dir, entry);
      return statSync(path).isDirectory() ? yamlFiles(path) : /\.ya?ml$/.test(entry) ? [path] : [];
    });
}
const manifests = (cluster: string): Json[] =>
  yamlFiles(join(CLUSTERS_DIR, cluster)).flatMap((file) => parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as Json).filter(Boolean));

/** Every nested value of `root` (objects and arrays), JSON strings of post-render patches parsed. */
function* walk(root: unknown): Generator<Json> {
  if (typeof root === 'string' && /^\s*[[{]/.test(root)) {
    try {
      yield* walk(JSON.parse(root));
    } catch {
      /* not JSON */
    }
    return;
  }
  if (root === null || typeof root !== 'object') return;
  yield root as Json;
  for (const value of Object.values(root as Json)) yield* walk(value);
}

/** What one manifest object (a HelmRelease with its values and patches, a CNPG Cluster) gives its pods. */
interface Wiring {
  readonly object: string;
  /** `namespace/name` of the service account whose annotation names the role. */
  readonly serviceAccounts: string[];
  readonly annotatedRoles: string[];
  readonly envRoles: string[];
  readonly tokenFiles: string[];
  /** Projected tokens for the STS audience, each with its expiry. */
  readonly stsTokens: { path: string; expirationSeconds: number }[];
  readonly mountDirs: string[];
  regionalSts: boolean;
  hostNetwork: boolean;
  /** AWS_EC2_METADATA_DISABLED=true: the SDK never falls back to IMDS (the node role). */
  imdsDisabled: boolean;
}

function wiringOf(object: Json): Wiring {
  const namespace = object.spec?.targetNamespace ?? object.metadata?.namespace;
  const w: Wiring = { object: `${object.kind}/${object.metadata?.namespace}/${object.metadata?.name}`, serviceAccounts: [], annotatedRoles: [], envRoles: [], tokenFiles: [], stsTokens: [], mountDirs: [], regionalSts: false, hostNetwork: false, imdsDisabled: false };
  for (const node of walk(object)) {
    const annotations = node.annotations as Json | undefined;
    if (annotations && typeof annotations[ROLE_ARN_ANNOTATION] === 'string') {
      w.annotatedRoles.push(annotations[ROLE_ARN_ANNOTATION]);
      // A chart's `serviceAccount: { name, annotations }`, or CloudNativePG's serviceAccountTemplate (named after the Cluster).
      const name = typeof node.name === 'string' ? node.name : object.kind === 'Cluster' ? object.metadata.name : undefined;
      w.serviceAccounts.push(`${namespace}/${name}`);
    }
    // A chart that names its account by one value (aws-cloud-controller-manager's serviceAccountName).
    if (object.kind === 'HelmRelease' && node === object.spec?.values && typeof node.serviceAccountName === 'string') w.serviceAccounts.push(`${namespace}/${node.serviceAccountName}`);
    if (node.name === 'AWS_EC2_METADATA_DISABLED' && node.value === 'true') w.imdsDisabled = true;
    // env as a list of { name, value } or a name → value map (cluster-autoscaler's extraEnv).
    if (node.name === 'AWS_ROLE_ARN' && typeof node.value === 'string') w.envRoles.push(node.value);
    if (typeof node.AWS_ROLE_ARN === 'string') w.envRoles.push(node.AWS_ROLE_ARN);
    if (node.name === 'AWS_WEB_IDENTITY_TOKEN_FILE' && typeof node.value === 'string') w.tokenFiles.push(node.value);
    if (typeof node.AWS_WEB_IDENTITY_TOKEN_FILE === 'string') w.tokenFiles.push(node.AWS_WEB_IDENTITY_TOKEN_FILE);
    if ((node.name === 'AWS_STS_REGIONAL_ENDPOINTS' && node.value === 'regional') || node.AWS_STS_REGIONAL_ENDPOINTS === 'regional') w.regionalSts = true;
    const token = node.serviceAccountToken as Json | undefined;
    if (token && token.audience === STS_AUDIENCE) w.stsTokens.push({ path: token.path, expirationSeconds: token.expirationSeconds });
    if (typeof node.mountPath === 'string' && typeof node.name === 'string' && node.name.includes('token')) w.mountDirs.push(node.mountPath);
    if (node.hostNetwork === true || node.hostNetworking === true || (node.path === '/spec/template/spec/hostNetwork' && node.value === true)) w.hostNetwork = true;
  }
  // CloudNativePG mounts spec.projectedVolumeTemplate at /projected.
  if (object.kind === 'Cluster' && object.spec?.projectedVolumeTemplate) w.mountDirs.push('/projected');
  return w;
}

const wired = (w: Wiring) => w.annotatedRoles.length + w.envRoles.length + w.tokenFiles.length + w.stsTokens.length > 0;
const roleName = (arn: string) => /^arn:aws:iam::\d{12}:role\/(.+)$/.exec(arn)?.[1];

type Stack = Json;
interface Role {
  readonly name: string;
  readonly trust: Statement[];
  readonly statements: Statement[];
}
function rolesOf(stack: Stack, resolveRefs: (text: string) => string): Role[] {
  return Object.entries((stack.resource?.aws_iam_role ?? {}) as Record<string, Json>).map(([id, role]) => ({
    name: role.name,
    trust: JSON.parse(resolveRefs(role.assume_role_policy)).Statement,
    statements: Object.values((stack.resource?.aws_iam_role_policy ?? {}) as Record<string, Json>)
      .filter((p) => p.role === `\${aws_iam_role.${id}.name}`)
      .flatMap((p) => JSON.parse(resolveRefs(p.policy)).Statement as Statement[]),
  }));
}

describe('workload identities: manifests and Terraform agree on every shipped cluster', () => {
  const outdir = join(mkdtempSync(join(tmpdir(), 'infra-workload-identity-')), 'cdktf.out');
  let stacks: Record<string, Stack>;

  beforeAll(async () => {
    if (!existsSync(CLUSTERS_DIR)) throw new Error(`${CLUSTERS_DIR} missing: run npm run synth`);
    await synthInfra(outdir);
    stacks = Object.fromEntries(platform.clusters.map((c) => [c.name, JSON.parse(readFileSync(join(outdir, 'stacks', platform.namesOf(c).stack, 'cdk.tf.json'), 'utf8'))]));
  }, 180_000);
  afterAll(() => rmSync(join(outdir, '..'), { recursive: true, force: true }));

  const resolver = (stack: Stack) => (text: string) =>
    text
      .replace(/\$\{local\.account_id\}/g, ACCOUNT)
      .replace(/\$\{aws_s3_bucket\.([^.}]+)\.arn\}/g, (_, id: string) => `arn:aws:s3:::${stack.resource.aws_s3_bucket[id].bucket}`)
      .replace(/\$\{aws_kms_key\.([^.}]+)\.arn\}/g, `arn:aws:kms:region:${ACCOUNT}:key/cluster`)
      .replace(/\$\{aws_sqs_queue\.([^.}]+)\.arn\}/g, (_, id: string) => `arn:aws:sqs:region:${ACCOUNT}:${stack.resource.aws_sqs_queue[id].name}`)
      // IAM names an OIDC provider's ARN after its URL without the scheme.
      .replace(/\$\{aws_iam_openid_connect_provider\.([^.}]+)\.arn\}/g, (_, id: string) => `arn:aws:iam::${ACCOUNT}:oidc-provider/${String(stack.resource.aws_iam_openid_connect_provider[id].url).replace(/^https:\/\//, '')}`);

  it.each(platform.clusters.map((c) => c.name))('%s: every service account with a role ARN has exactly that role, trusted for exactly its subject, and no role lacks its service account', (cluster) => {
    const names = platform.namesOf(cluster);
    const issuer = names.serviceAccountIssuer;
    const wirings = manifests(cluster).map(wiringOf).filter(wired);
    const roles = rolesOf(stacks[cluster], resolver(stacks[cluster])).filter((r) => r.trust.some((s) => s.Action === 'sts:AssumeRoleWithWebIdentity'));

    const bound = new Map<string, string>();
    for (const w of wirings) {
      // One service account, one role, named alike by its annotation and its pods' AWS_ROLE_ARN.
      expect(w.serviceAccounts, w.object).toHaveLength(1);
      expect(new Set([...w.annotatedRoles, ...w.envRoles]).size, w.object).toBe(1);
      expect(w.envRoles.length, `${w.object} sets AWS_ROLE_ARN`).toBeGreaterThan(0);
      // The token its pods read is the projected STS token, short-lived, at the path the variable names.
      expect(w.stsTokens, w.object).toHaveLength(1);
      expect(w.stsTokens[0].expirationSeconds, w.object).toBeLessThanOrEqual(3600);
      expect(w.tokenFiles.every((file) => w.mountDirs.some((dir) => file === `${dir}/${w.stsTokens[0].path}`)), `${w.object}: ${w.tokenFiles} under ${w.mountDirs}`).toBe(true);
      expect(w.regionalSts, w.object).toBe(true);
      // Host networking would put the node role within reach through IMDS, unless the SDK's IMDS is
      // off (the cloud controller, which runs before the CNI; the nodes' IMDS fence drops it anyway).
      expect(w.hostNetwork && !w.imdsDisabled, w.object).toBe(false);
      const [namespace, serviceAccount] = w.serviceAccounts[0].split('/');
      const arn = w.annotatedRoles[0] ?? w.envRoles[0];
      bound.set(issuer.subject(namespace, serviceAccount), roleName(arn) as string);
      expect(arn).toBe(`arn:aws:iam::${platform.settings.accountId}:role/${roleName(arn)}`);
    }

    const trusted = new Map<string, string>();
    for (const role of roles) {
      expect(role.trust, role.name).toHaveLength(1);
      const [statement] = role.trust;
      expect(statement.Principal).toEqual({ Federated: issuer.providerArn(ACCOUNT) });
      const conditions = statement.Condition as Record<string, Record<string, string>>;
      expect(Object.keys(conditions), role.name).toEqual(['StringEquals']);
      expect(conditions.StringEquals[`${issuer.host}:aud`]).toBe(STS_AUDIENCE);
      trusted.set(conditions.StringEquals[`${issuer.host}:sub`], role.name);
    }
    expect(Object.fromEntries([...bound].sort())).toEqual(Object.fromEntries([...trusted].sort()));
    expect(trusted.size).toBe(workloadIdentitiesOf(platform.cluster(cluster), names).length);
  });

  it.each(platform.clusters.map((c) => c.name))('%s: no other manifest object mounts an STS-audience token or sets AWS_ROLE_ARN or access keys', (cluster) => {
    const objects = manifests(cluster);
    const wiredObjects = objects.map(wiringOf).filter(wired).map((w) => w.object).sort();
    expect(wiredObjects).toEqual(
      [
        `HelmRelease/kube-system/aws-cloud-controller-manager`,
        `HelmRelease/kube-system/aws-ebs-csi-driver`,
        `HelmRelease/kube-system/cluster-autoscaler`,
        `HelmRelease/kube-system/aws-node-termination-handler`,
        `Cluster/data/orders`,
      ].sort(),
    );
    // Host networking our values ask for: only the cloud controller (docs/identity.md), on its own role
    // with the SDK's IMDS off; the nodes' IMDS fence drops every pod socket (Cilium's agent,
    // node-exporter, chart host-network pods) at web identity, and the node roles carry no add-on right.
    expect(objects.map(wiringOf).filter((w) => w.hostNetwork).map((w) => [w.object, w.imdsDisabled])).toEqual([['HelmRelease/kube-system/aws-cloud-controller-manager', true]]);
    const text = JSON.stringify(objects);
    expect(text).not.toMatch(/AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|accessKeyId|secretAccessKey/);
  });

  it.each(platform.clusters.map((c) => c.name))('%s: only the EBS CSI controller’s role may create a volume, only cluster-autoscaler’s scale a group, only the handler’s read its queue, only the database’s write its backups', (cluster) => {
    const names = platform.namesOf(cluster);
    const stack = stacks[cluster];
    const roles = rolesOf(stack, resolver(stack));
    const region = platform.cluster(cluster).region;
    const allowed = (request: Parameters<typeof evaluate>[1]) => roles.filter((r) => evaluate(r.statements, request) === 'allow').map((r) => r.name);
    const role = (id: Parameters<typeof names.serviceAccountIssuer.workloadRole>[0]) => names.serviceAccountIssuer.workloadRole(id);
    const owned = { [`aws:ResourceTag/${names.clusterTagKey}`]: 'owned' };

    expect(allowed({ action: 'ec2:CreateVolume', resource: `arn:aws:ec2:${region}:${ACCOUNT}:volume/*`, context: { 'aws:RequestTag/ebs.csi.aws.com/cluster': 'true', [`aws:RequestTag/${names.clusterTagKey}`]: 'owned' } })).toEqual([role('ebs-csi-controller')]);
    expect(allowed({ action: 'ec2:AttachVolume', resource: `arn:aws:ec2:${region}:${ACCOUNT}:volume/vol-0123`, context: owned })).toEqual([role('ebs-csi-controller')]);
    expect(allowed({ action: 'autoscaling:SetDesiredCapacity', resource: '*', context: { ...owned, [`aws:ResourceTag/${names.autoscalerDiscoveryTags[names.autoscalerDiscoveryTags.length - 1]}`]: 'owned' } })).toEqual([role('cluster-autoscaler')]);
    expect(allowed({ action: 'sqs:ReceiveMessage', resource: `arn:aws:sqs:region:${ACCOUNT}:${names.nodeTermination.queue}` })).toEqual([role('node-termination-handler')]);
    expect(allowed({ action: 's3:PutObject', resource: `arn:aws:s3:::${names.appBackupBucket}/${names.appBackupArchive.bucketPrefix}orders/wals/0001` })).toEqual([role('postgres-backups')]);
    // The control plane keeps completing lifecycle hooks (its own launching hook at init), as does the handler.
    expect(allowed({ action: 'autoscaling:CompleteLifecycleAction', resource: '*', context: { [`autoscaling:ResourceTag/${names.clusterTagKey}`]: 'owned' } }).sort()).toEqual([names.controlPlaneRole, role('node-termination-handler')].sort());
    // Workers: nothing but ECR, Session Manager, their join read and their pinned script bundle.
    const worker = roles.find((r) => r.name === names.workerRole) as Role;
    const workerActions = worker.statements.flatMap((s) => [s.Action].flat() as string[]);
    expect(workerActions.filter((a) => !/^(ecr|ssm|ssmmessages|ec2messages|kms):/.test(a) && !/^s3:GetObject(Version)?$/.test(a))).toEqual([]);
    expect(workerActions.filter((a) => a.startsWith('ssm:') && !['ssm:GetParameter', 'ssm:GetParameters', 'ssm:UpdateInstanceInformation'].includes(a))).toEqual([]);
    // The identity-roll gate trusts these records: only the control plane may write them, no workload role, no worker.
    const record = `arn:aws:ssm:${region}:${ACCOUNT}:parameter${bootstrapNames(names).identityStageRecords}/i-0123456789abcdef0`;
    expect(allowed({ action: 'ssm:PutParameter', resource: record })).toEqual([names.controlPlaneRole]);
  });
  // An etcd snapshot holds pki/sa.key (and the CA keys): whoever reads one can mint a token for any
  // service account. Every host-network pod on a control-plane node reaches that node's role, so
  // the node roles may write snapshots but never read or decrypt them; only the restore role can,
  // and no node role may assume it.
  it.each(platform.clusters.map((c) => c.name))('%s: only the restore role reads and decrypts etcd snapshots; the node roles write them and cannot assume it', (cluster) => {
    const stack = stacks[cluster];
    const names = platform.namesOf(cluster);
    const region = platform.cluster(cluster).region;
    const roles = rolesOf(stack, resolver(stack));
    const allowed = (request: Parameters<typeof evaluate>[1]) => roles.filter((r) => evaluate(r.statements, request) === 'allow').map((r) => r.name).sort();
    const snapshot = `arn:aws:s3:::${names.etcdBackupBucket}/${bootstrapNames(names).etcdSnapshotPrefix}/etcd-${cluster}-20250630T114500Z.tar.gz`;
    const viaS3 = { 'kms:ViaService': `s3.${region}.amazonaws.com`, 'kms:EncryptionContext:aws:s3:arn': `arn:aws:s3:::${names.etcdBackupBucket}` };
    const key = `arn:aws:kms:region:${ACCOUNT}:key/cluster`;
    for (const action of ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectAttributes']) {
      expect(allowed({ action, resource: snapshot }), action).toEqual(action === 's3:GetObject' ? [names.etcdRestoreRole] : []);
    }
    // S3 decrypts an SSE-KMS object with the requester's permission: the node roles have none through S3.
    for (const node of [names.controlPlaneRole, names.workerRole]) expect(allowed({ action: 'kms:Decrypt', resource: key, context: viaS3 })).not.toContain(node);
    expect(allowed({ action: 'kms:Decrypt', resource: key, context: viaS3 })).toContain(names.etcdRestoreRole);
    // Writing stays: one PutObject, whose SSE-KMS needs only a data key.
    expect(allowed({ action: 's3:PutObject', resource: snapshot })).toEqual([names.controlPlaneRole]);
    expect(allowed({ action: 'kms:GenerateDataKey', resource: key, context: viaS3 })).toContain(names.controlPlaneRole);
    expect(allowed({ action: 's3:PutObject', resource: snapshot })).not.toContain(names.etcdRestoreRole);

    // Its trust: the account delegates it to operators' own policies; a node role is excluded whatever its policy says.
    const restore = roles.find((r) => r.name === names.etcdRestoreRole)!;
    const arnOf = (role: string) => `arn:aws:iam::${ACCOUNT}:role/${role}`;
    const trustFor = (principal: string) =>
      evaluate(restore.trust.filter((s) => principalMatches(s, principal, ACCOUNT)), { action: 'sts:AssumeRole', resource: arnOf(names.etcdRestoreRole), context: { 'aws:PrincipalArn': principal } });
    expect(trustFor(arnOf('platform-operator'))).toBe('allow');
    for (const node of [names.controlPlaneRole, names.workerRole]) {
      expect(trustFor(arnOf(node)), node).not.toBe('allow');
      const own = roles.find((r) => r.name === node)!;
      expect(evaluate(own.statements, { action: 'sts:AssumeRole', resource: arnOf(names.etcdRestoreRole) }), node).toBe('implicit-deny');
    }
    // No web identity (a pod's projected token) reaches it either.
    expect(restore.trust.some((s) => [s.Action].flat().includes('sts:AssumeRoleWithWebIdentity'))).toBe(false);
  });
});
