import { nodeBootstrapActions } from '@platform/platform-config';
import type { Findings } from '../findings';
import type { IdentityOutcome, IdentityRow } from '../report-types';
import { allowed, conditionHolds, wildcardMatch, type Statement } from './iam';
import type { IdentityModel, IdentityRole, NodeIdentity } from './identity-model';
import { daemonSetTolerations } from './scheduler';
import { fits } from './placement';
import type { PodIdentity } from './pod-identities';
import type { NodeSelectorRequirement } from '../model';
import { isObject, type Json } from './values';

const WEB_IDENTITY = 'sts:AssumeRoleWithWebIdentity';
const STS_AUDIENCE = 'sts.amazonaws.com';

/**
 * What node-bootstrap does with the node's own credentials: platform-config's NODE_BOOTSTRAP_GRANTS,
 * the list the node policies are built from. A node role allowing anything else hands it to every
 * pod that reaches IMDS.
 */
export const NODE_BOOTSTRAP_ACTIONS: readonly string[] = nodeBootstrapActions();

const isWebIdentity = (s: Statement): boolean => s.effect === 'Allow' && (s.actions ?? []).some((a) => wildcardMatch(a, WEB_IDENTITY, true));
const federatedOf = (s: Statement): string[] => (isObject(s.principal) ? [(s.principal as Json).Federated].flat().filter((x): x is string => typeof x === 'string') : []);
const hostOfArn = (arn: string): string | undefined => /:oidc-provider\/(.+)$/.exec(arn)?.[1];
/** A Federated principal Terraform computes from outside the stack (a cross-stack reference): its provider is not known here. */
const unresolved = (arn: string): boolean => arn.includes('${');
/** Federated principals that may be the cluster's provider: its ARN, or one the stack cannot resolve (not held against it). */
const mayBeOwn = (s: Statement, host: string | undefined): boolean => federatedOf(s).some((f) => unresolved(f) || hostOfArn(f) === host);

/** The condition entries on `<host>:<claim>`, with their operators. */
function claimConditions(s: Statement, claim: 'sub' | 'aud'): Array<{ op: string; key: string; values: string[] }> {
  return Object.entries(s.condition).flatMap(([op, block]) =>
    isObject(block) ? Object.entries(block).filter(([k]) => k.toLowerCase().endsWith(`:${claim}`)).map(([key, v]) => ({ op, key, values: [v].flat().map(String) })) : [],
  );
}

/** Allowed actions summarised per service and resource scope: `s3:GetObject, PutObject on arn:aws:s3:::b/postgres/*`. */
export function summariseActions(statements: readonly Statement[], keep: (action: string) => boolean = () => true): string[] {
  const groups = new Map<string, Set<string>>();
  for (const s of statements.filter((x) => x.effect === 'Allow')) {
    const actions = s.actions ?? (s.notActions ? [`* except ${s.notActions.join(', ')}`] : []);
    const scope = `${(s.resources ?? ['*']).join(', ')}${Object.keys(s.condition).length > 0 ? ' (conditioned)' : ''}`;
    for (const a of actions.filter(keep)) {
      const [service, verb] = a.includes(':') ? [a.slice(0, a.indexOf(':')), a.slice(a.indexOf(':') + 1)] : ['*', a];
      const key = `${service}\u0000${scope}`;
      groups.set(key, (groups.get(key) ?? new Set<string>()).add(verb));
    }
  }
  return [...groups].map(([key, verbs]) => {
    const [service, scope] = key.split('\u0000');
    return `${service}:${[...verbs].join(', ')} on ${scope}`;
  });
}

/** Node groups a pod template can land on (selectors, affinity, taints; a DaemonSet's automatic tolerations). */
function nodesOf(p: PodIdentity, nodes: readonly NodeIdentity[]): NodeIdentity[] {
  const t = p.template;
  const selector: NodeSelectorRequirement[] = Object.entries(t.nodeSelector).map(([key, v]) => ({ key, operator: 'In', values: [v] }));
  const tolerations = t.kind === 'DaemonSet' ? [...t.tolerations, ...daemonSetTolerations(t.hostNetwork)] : t.tolerations;
  return nodes.filter((n) => fits(n.group, selector, tolerations, t.nodeAffinityTerms));
}

/**
 * Whether `p` on `n` reaches IMDS past node-bootstrap's fence: the fence drops the IMDS traffic of
 * host-network pod sockets (OUTPUT, cgroup kubepods.slice), with no exception at web identity (an
 * older fence exempted one uid, which any pod may claim). Pod-network traffic is forwarded, not
 * OUTPUT: the fence does not change it (hop limit does).
 */
function pastFence(p: PodIdentity, n: NodeIdentity): boolean {
  return !p.template.hostNetwork || n.imdsFence === undefined || (n.imdsFence.allowedUid !== undefined && p.runAsUser === n.imdsFence.allowedUid);
}

/** Which pods on a node reach its IMDS, and so act as its role: none, host-network pods only, or all. */
function imdsReach(n: NodeIdentity): 'none' | 'host-network' | 'all' {
  if (!n.metadata.endpointEnabled || n.role === undefined) return 'none';
  // IMDSv2's PUT answer has a TTL of the hop limit: 1 dies at the pod's veth; IMDSv1 needs no token at all.
  return n.metadata.tokensRequired && n.metadata.hopLimit <= 1 ? 'host-network' : 'all';
}

function judgeTrust(role: IdentityRole, model: IdentityModel, findings: Findings): void {
  const web = role.trust.filter(isWebIdentity);
  for (const s of web) {
    const federated = federatedOf(s);
    const foreign = federated.filter((f) => !unresolved(f) && hostOfArn(f) !== model.issuerHost);
    if (model.issuerHost !== undefined && foreign.length > 0) {
      findings.add('identity.foreign-provider', role.name, `${role.name} trusts web identities of ${foreign.join(', ')}, not the cluster's own OIDC provider (oidc-provider/${model.issuerHost}): tokens another issuer signs can assume it`);
    }
    const subs = claimConditions(s, 'sub');
    const wild = subs.filter((c) => /Like/.test(c.op) && c.values.some((v) => /[*?]/.test(v)));
    if (subs.length === 0) findings.add('identity.trust-wildcard', role.name, `${role.name} trusts every service account of the issuer: no sub condition`);
    for (const c of wild) findings.add('identity.trust-wildcard', role.name, `${role.name} trusts ${c.op} ${c.key} = ${c.values.join(', ')}: every service account the pattern matches can assume it`);
    // StringLike with no wildcard in the value matches exactly what StringEquals does (IAM).
    const exact = (c: { op: string; values: readonly string[] }): boolean => /^(ForAllValues:)?String(Equals|Like)$/.test(c.op) && (!/Like$/.test(c.op) || c.values.every((v) => !/[*?]/.test(v)));
    const aud = claimConditions(s, 'aud').filter((c) => exact(c) && c.values.every((v) => v === STS_AUDIENCE));
    if (aud.length === 0) findings.add('identity.trust-no-audience', role.name, `${role.name} has no StringEquals condition ${model.issuerHost ?? '<issuer>'}:aud = ${STS_AUDIENCE}: a token minted for any audience (another service's) can assume it`);
  }
}

/** The role a pod wires, how, and whether its trust admits the pod's own service account. */
function judgePod(p: PodIdentity, model: IdentityModel, findings: Findings): IdentityRow | undefined {
  const viaEnv = p.envRoleArn !== undefined;
  const arn = p.envRoleArn ?? p.annotationRoleArn;
  if (arn === undefined) return undefined;
  const wiring = viaEnv ? 'web identity (env AWS_ROLE_ARN + projected token)' : model.webhook ? `web identity (role annotation, ${model.webhook})` : 'none: role annotation without a pod identity webhook';
  const roleName = arn.slice(arn.lastIndexOf('/') + 1);
  const role = model.roles.find((r) => r.name === roleName);
  const row: IdentityRow = { workload: p.workload, serviceAccount: p.serviceAccount, role: roleName, path: wiring, actions: role ? summariseActions(role.statements) : [] };
  if (!viaEnv && !model.webhook) {
    findings.add('identity.annotation-inert', p.workload, `${p.workload}: service account ${p.serviceAccount ?? '(chart default)'} is annotated with ${arn}, but no pod identity webhook runs in the cluster: nothing injects AWS_ROLE_ARN or a token, so the SDK falls back to the node's IMDS (the node role, or no credentials with hop limit 1)`);
    return row;
  }
  if (viaEnv && p.envTokenFile !== undefined && p.envTokenAudience !== STS_AUDIENCE) {
    findings.add('identity.token-audience', p.workload, `${p.workload}: AWS_WEB_IDENTITY_TOKEN_FILE ${p.envTokenFile} is ${p.envTokenAudience === 'missing' ? 'no projected serviceAccountToken of the pod' : `a projected token for audience ${p.envTokenAudience}`}: STS accepts only ${STS_AUDIENCE}`);
  }
  if (!role) {
    findings.add('identity.trust-mismatch', p.workload, `${p.workload} wires ${arn}, a role this Terraform does not define: its trust cannot name the pod's service account`);
    return row;
  }
  if (p.serviceAccount === undefined) {
    findings.add('identity.subject-unknown', p.workload, `${p.workload} wires ${roleName} from chart values that leave the service account's name to the chart: whether ${roleName}'s trust names it is not decided`);
    return row;
  }
  const subject = `system:serviceaccount:${p.namespace}:${p.serviceAccount}`;
  const host = model.issuerHost;
  // No issuer known (no --cluster, and not exactly one provider in the stack): the trust cannot be held to it.
  if (host === undefined) return row;
  const admitted = role.trust.filter(isWebIdentity).some((s) => mayBeOwn(s, host) && conditionHolds(s.condition, { [`${host}:sub`]: subject, [`${host}:aud`]: STS_AUDIENCE }));
  if (!admitted) {
    const own = role.trust.filter((s) => isWebIdentity(s) && mayBeOwn(s, host));
    const named = own.flatMap((s) => claimConditions(s, 'sub').flatMap((c) => c.values));
    const why = own.length === 0 ? `no statement federates the cluster's provider (oidc-provider/${host})` : `it names ${named.join(', ') || 'no subject'}`;
    findings.add('identity.trust-mismatch', p.workload, `${p.workload} runs as ${subject} and wires ${roleName}, whose trust does not admit it (${why}): AssumeRoleWithWebIdentity is denied`);
  }
  return row;
}

/**
 * What of the role yields the service-account signing key or replaces its public half (IAM's
 * evaluation): reading the etcd snapshots (pki/sa.key inside), writing the issuer's JWKS (STS
 * then trusts a key of the writer's), reading kubeadm's certificate key (with the join token,
 * `kubeadm-certs` hands out sa.key and the CA keys). Empty: none of them.
 */
function mintingAccess(role: IdentityRole, model: IdentityModel): string[] {
  const can = (action: string, resource: string) => allowed(role.statements, { action, resource, context: {} }).allowed;
  const out: string[] = [];
  const at = model.etcdSnapshots;
  if (at && can('s3:GetObject', `arn:aws:s3:::${at.bucket}/${at.prefix}/snapshot.db`)) out.push(`read the etcd snapshots (s3:GetObject on arn:aws:s3:::${at.bucket}/${at.prefix}/*), which hold pki/sa.key`);
  const issuer = model.issuerBucket;
  const jwks = issuer ? `arn:aws:s3:::${issuer.name}/openid/v1/jwks` : undefined;
  if (jwks && can('s3:PutObject', jwks)) out.push(`overwrite the issuer's JWKS (s3:PutObject on ${jwks}) with a key of its own`);
  if (at?.certificateKeyArn && can('ssm:GetParameter', at.certificateKeyArn)) out.push(`read kubeadm's certificate key (ssm:GetParameter on ${at.certificateKeyArn}), which with the join token decrypts the kubeadm-certs Secret: sa.key and the CA keys`);
  return out;
}

/** Who can act on AWS, per workload: its role and what it allows, the path, and the findings. */
export function identityAnalysis(model: IdentityModel, findings: Findings): IdentityOutcome {
  const rows: IdentityRow[] = [];
  for (const k of model.staticKeys) {
    // The user a migrating cluster declares: its access key lives outside Terraform and goes with the stage `complete`.
    // An access key in the stack, or any other user, stays an error.
    if (k.migration) findings.add('identity.static-keys-migrating', k.address, `static keys: ${k.what}, kept by serviceAccountIdentity ${k.migration} until complete (docs/runbooks/service-account-issuer.md): its access key, made by hand, is long-lived until then`);
    else findings.add('identity.static-keys', k.address, `static keys: ${k.what}: long-lived credentials outside any pod's identity (they never expire and leak with every copy)`);
    rows.push({ workload: '(any holder of the keys)', serviceAccount: undefined, role: k.what, path: 'static keys', actions: [] });
  }
  for (const role of model.roles) judgeTrust(role, model, findings);
  for (const p of model.pods) {
    const row = judgePod(p, model, findings);
    if (row) rows.push(row);
  }
  // Pods that reach their node's IMDS act as the node role: what beyond the bootstrap's needs do they inherit?
  const reachable = model.nodes.filter((n) => imdsReach(n) !== 'none');
  const everyPod = reachable.some((n) => imdsReach(n) === 'all');
  for (const p of reachable.length === 0 ? [] : model.pods.filter((x) => x.template.hostNetwork || everyPod)) {
    const reached = nodesOf(p, reachable).filter((n) => (imdsReach(n) === 'all' || (imdsReach(n) === 'host-network' && p.template.hostNetwork)) && pastFence(p, n));
    for (const roleName of [...new Set(reached.map((n) => n.role as string))]) {
      const role = model.roles.find((r) => r.name === roleName);
      const extra = role ? summariseActions(role.statements, (a) => !NODE_BOOTSTRAP_ACTIONS.some((b) => wildcardMatch(b, a, true) || a === b)) : [];
      const groups = reached.filter((n) => n.role === roleName);
      const how = p.template.hostNetwork ? 'hostNetwork' : `IMDS ${groups[0].metadata.tokensRequired ? `hop limit ${groups[0].metadata.hopLimit}` : 'v1 allowed (http_tokens optional)'}`;
      rows.push({ workload: p.workload, serviceAccount: p.serviceAccount, role: roleName, path: `node role via IMDS (${how})`, actions: role ? summariseActions(role.statements) : [] });
      // A fence that exempts a uid does not hold: any pod may run as that uid (only the fence's drop counts).
      const exempt = groups.map((g) => g.imdsFence?.allowedUid).find((u) => u !== undefined);
      const unfenced = groups.some((g) => g.imdsFence === undefined || g.imdsFence.allowedUid !== undefined);
      const minting = role && unfenced ? mintingAccess(role, model) : [];
      const snapshots = role && model.etcdSnapshots && minting.some((m) => m.startsWith('read the etcd snapshots')) ? `s3:GetObject on arn:aws:s3:::${model.etcdSnapshots.bucket}/${model.etcdSnapshots.prefix}/*` : undefined;
      // Once pods use web identity every node is fenced (platform-config imdsFenced): a pod that still reaches IMDS is
      // the node, whatever the role allows beyond the bootstrap (a worker's reads the join token: it registers nodes).
      if (model.imdsFenceRequired) {
        findings.add('identity.imds-unfenced', `${p.workload} → ${roleName}`, `${p.workload} (${how}) on ${groups.map((g) => g.group.name).join(', ')} reaches IMDS and acts as ${roleName} (the join material among its reads), though the cluster's pods use web identity and every node must fence IMDS off (${groups.every((g) => g.imdsFence === undefined) ? 'no IMDS fence on the node' : 'the fence exempts a uid any pod may run as, or the hop limit lets pod-network traffic through'})`);
      }
      if (extra.length > 0 || minting.length > 0) {
        const beyond = extra.length > 0 ? ` beyond what the bootstrap needs: ${extra.join('; ')}` : '';
        const mint = minting.length > 0
          ? `${beyond ? ';' : ':'} it can ${minting.join('; ')}: so it can mint tokens for every workload role (${exempt === undefined ? 'no IMDS fence on the node' : `the node's IMDS fence exempts uid ${exempt}, which any pod may run as`})`
          : '';
        findings.add(minting.length > 0 ? 'identity.imds-mints' : 'identity.imds-inherits', `${p.workload} → ${roleName}`, `${p.workload} (${how}) on ${groups.map((g) => g.group.name).join(', ')} reaches IMDS and inherits ${roleName}${beyond}${mint}`, {
          vars: { snapshots: snapshots ? ` Move snapshot reads (${snapshots}) to a restore-only principal that only a restore assumes (aws-cluster's etcd-backups policy), so the standing node role can write snapshots but not read them back.` : '' },
        });
      }
    }
  }
  const bucket = model.issuerBucket;
  const provider = model.providers.find((p) => p.host === model.issuerHost);
  if (provider && bucket) {
    const missing = ['.well-known/openid-configuration', 'openid/v1/jwks'].filter((k) => !bucket.publicKeys.includes(k));
    const problems = [
      ...(bucket.address === undefined ? [`the issuer bucket ${bucket.name} is not in this Terraform`] : []),
      ...(bucket.address !== undefined && missing.length > 0 ? [`${missing.join(' and ')} not readable anonymously through the bucket policy`] : []),
      ...(bucket.blockedBy ? [`its public access block sets ${bucket.blockedBy}`] : []),
      ...bucket.alsoPublic.map((x) => `${x} public too (exactly the two discovery objects must be)`),
    ];
    if (problems.length > 0) findings.add('identity.issuer-not-public', provider.address, `the OIDC provider for ${model.issuerHost} needs STS to fetch the discovery objects of ${bucket.name}: ${problems.join('; ')}`);
  }
  return { issuerHost: model.issuerHost, provider: provider?.address, webhook: model.webhook, rows };
}

/** Workloads whose pods call STS with a web identity (env wiring, or an annotation a webhook acts on), and the node groups they can run on. */
export function webIdentityClients(model: IdentityModel): Array<{ workload: string; groups: string[]; global: boolean }> {
  return model.pods
    .filter((p) => p.envRoleArn !== undefined || (p.annotationRoleArn !== undefined && model.webhook !== undefined))
    .map((p) => ({ workload: p.workload, groups: nodesOf(p, model.nodes).map((n) => n.group.address), global: p.stsGlobal === true }));
}
