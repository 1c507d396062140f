import { generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { SERVICE_ACCOUNT_IDENTITY_STAGES, ServiceAccountIdentity, type ServiceAccountIdentityStage } from '@platform/platform-config';
import { renderUserData } from '../src';
import { applyKubeadmPatches, apiServerIssuers, apiServerKeyFiles, kubeadmApiServerPod, kubeadmEtcdPod, type ApiServerIssuers, type Arg } from './kubeadm-static-pod';
import { inputFor, platform } from './harness';

/*
 * Each control-plane node's service-account flags come from its own user data (a kubeadm JSON
 * patch), applied here to the manifest kubeadm generates, as kubeadm would. Then a rolling
 * replacement, node by node, with real RS256 tokens: whatever any API server signs at any moment
 * must be accepted by every API server from then on (tokens stay in pods for up to an hour).
 */

const LEGACY = 'https://kubernetes.default.svc.cluster.local';
const issuer = platform.namesOf('production').serviceAccountIssuer;

type Files = { path: string; content: string }[];

const rendered = new Map<ServiceAccountIdentityStage, Files>();
function controlPlaneFiles(stage: ServiceAccountIdentityStage): Files {
  const input = inputFor('production', 'control-plane');
  const cluster = { ...input.cluster, serviceAccountIdentity: ServiceAccountIdentity.of(stage) };
  if (!rendered.has(stage)) rendered.set(stage, (parse(renderUserData({ ...input, cluster })) as { write_files: Files }).write_files);
  return rendered.get(stage) as Files;
}

function documents(files: Files, path: string): Record<string, unknown>[] {
  const file = files.find((f) => f.path === path);
  if (!file) throw new Error(`no ${path} in the user data`);
  return parseAllDocuments(file.content).map((d) => d.toJSON() as Record<string, unknown>);
}

/** The kube-apiserver manifest of a node booted from `stage`'s user data: kubeadm's manifest, then its patches directory. */
function apiServerOf(stage: ServiceAccountIdentityStage): ApiServerIssuers {
  const files = controlPlaneFiles(stage);
  const [init, clusterConfiguration] = documents(files, '/etc/node-bootstrap/kubeadm-init.yaml.tmpl') as [{ patches: { directory: string } }, { apiServer: { extraArgs: Arg[] } }];
  const directory = init.patches.directory;
  const patches = Object.fromEntries(files.filter((f) => f.path.startsWith(`${directory}/`)).map((f) => [f.path.slice(directory.length + 1), f.content]));
  return apiServerIssuers(applyKubeadmPatches('kube-apiserver', kubeadmApiServerPod(clusterConfiguration.apiServer.extraArgs), patches));
}

/** A control-plane node from before IRSA: kubeadm's defaults, no patch. */
const PRE_IRSA: ApiServerIssuers = apiServerIssuers(kubeadmApiServerPod([]));
/** What main rendered before the stages: the new issuer first and the legacy one accepted, on every node at once. */
const ONE_STEP_SWITCH: ApiServerIssuers = { signs: issuer.url, accepts: [issuer.url, LEGACY], audiences: [LEGACY], jwksUri: issuer.jwksUrl };

describe('kubeadm patch of the kube-apiserver static pod, per identity stage', () => {
  it('accept-issuer: signs with the legacy issuer, accepts the cluster issuer too, audience pinned', () => {
    expect(apiServerOf('accept-issuer')).toEqual({ signs: LEGACY, accepts: [LEGACY, issuer.url], audiences: [LEGACY], jwksUri: undefined });
  });

  it.each(['sign-with-issuer', 'web-identity', 'complete'] as const)('%s: signs with the cluster issuer, still accepts the legacy one', (stage) => {
    expect(apiServerOf(stage)).toEqual({ signs: issuer.url, accepts: [issuer.url, LEGACY], audiences: [LEGACY], jwksUri: issuer.jwksUrl });
  });

  it('signs with the cluster issuer whatever its name sorts like (kubeadm sorts extraArgs, the patch does not)', () => {
    const input = inputFor('production', 'control-plane');
    const late = 'https://zeta-production-oidc-ap-northeast-2.s3.ap-northeast-2.amazonaws.com';
    const names = { ...input.names, serviceAccountIssuer: { ...input.names.serviceAccountIssuer, url: late, jwksUrl: `${late}/openid/v1/jwks` } };
    const files = (parse(renderUserData({ ...input, names })) as { write_files: Files }).write_files;
    const patch = files.find((f) => f.path === '/etc/node-bootstrap/kubeadm-patches/kube-apiserver+json.yaml')?.content ?? '';
    expect(apiServerIssuers(applyKubeadmPatches('kube-apiserver', kubeadmApiServerPod([]), { 'kube-apiserver+json.yaml': patch })).accepts).toEqual([late, LEGACY]);
  });

  it('the ClusterConfiguration names no service-account flag (a joining or upgrading node reads it from the ConfigMap of the cluster\'s init)', () => {
    const [, clusterConfiguration] = documents(controlPlaneFiles('complete'), '/etc/node-bootstrap/kubeadm-init.yaml.tmpl') as [unknown, { apiServer: { extraArgs: Arg[] } }];
    expect(clusterConfiguration.apiServer.extraArgs.map((a) => a.name)).toEqual(['default-not-ready-toleration-seconds', 'default-unreachable-toleration-seconds']);
  });

  it.each(SERVICE_ACCOUNT_IDENTITY_STAGES)('%s: verifies with kubeadm\'s sa.pub and the bundle, also on a node of a cluster whose ConfigMap predates the bundle', (stage) => {
    const patch = controlPlaneFiles(stage).find((f) => f.path.endsWith('kube-apiserver+json.yaml'))?.content ?? '';
    // The ConfigMap of a cluster initialised before: kubeadm's defaults only.
    const pod = applyKubeadmPatches('kube-apiserver', kubeadmApiServerPod([]), { 'kube-apiserver+json.yaml': patch });
    expect(apiServerKeyFiles(pod)).toEqual(['/etc/kubernetes/pki/sa.pub', '/etc/kubernetes/pki/sa-bundle.pub']);
  });

  it('a cluster whose kubeadm-config ConfigMap already names the issuers would list one twice, which kube-apiserver refuses (runbook: remove them first)', () => {
    const irsaMainArgs: Arg[] = [
      { name: 'service-account-issuer', value: issuer.url },
      { name: 'service-account-issuer', value: LEGACY },
      { name: 'service-account-jwks-uri', value: issuer.jwksUrl },
      { name: 'api-audiences', value: LEGACY },
    ];
    const patch = controlPlaneFiles('complete').find((f) => f.path.endsWith('kube-apiserver+json.yaml'))?.content ?? '';
    expect(() => apiServerIssuers(applyKubeadmPatches('kube-apiserver', kubeadmApiServerPod(irsaMainArgs), { 'kube-apiserver+json.yaml': patch }))).toThrow(
      `kube-apiserver: service-account-issuer "${issuer.url}" is already specified`,
    );
  });

  it('kubeadm upgrade node/apply --config /etc/node-bootstrap/kubeadm-upgrade.yaml applies the same patches directory (v1beta4 UpgradeConfiguration)', () => {
    for (const files of [controlPlaneFiles('complete'), (parse(renderUserData(inputFor('production', 'worker'))) as { write_files: Files }).write_files]) {
      const [upgrade] = documents(files, '/etc/node-bootstrap/kubeadm-upgrade.yaml');
      const patches = { directory: '/etc/node-bootstrap/kubeadm-patches' };
      expect(upgrade).toEqual({ apiVersion: 'kubeadm.k8s.io/v1beta4', kind: 'UpgradeConfiguration', apply: { patches }, node: { patches } });
    }
  });

  it('a joining control-plane node reads the same patches; workers get no kube-apiserver patch (only their kubelet reserves)', () => {
    const [join] = documents(controlPlaneFiles('accept-issuer'), '/etc/node-bootstrap/kubeadm-join.yaml.tmpl');
    expect(join).toMatchObject({ kind: 'JoinConfiguration', patches: { directory: '/etc/node-bootstrap/kubeadm-patches' } });
    const worker = (parse(renderUserData(inputFor('production', 'worker'))) as { write_files: Files }).write_files;
    expect(worker.filter((f) => f.path.includes('kubeadm-patches')).map((f) => f.path)).toEqual(['/etc/node-bootstrap/kubeadm-patches/kubeletconfiguration+merge.yaml']);
  });

  it('a patch on a manifest whose first container is not kube-apiserver fails the kubeadm run instead of patching the wrong place', () => {
    const patch = controlPlaneFiles('complete').find((f) => f.path.endsWith('kube-apiserver+json.yaml'))?.content ?? '';
    const pod = kubeadmApiServerPod([]);
    const containers = (pod.spec as { containers: { command: string[] }[] }).containers;
    containers[0].command = ['/usr/local/bin/kube-apiserver', ...containers[0].command.slice(1)];
    expect(() => applyKubeadmPatches('kube-apiserver', pod, { 'kube-apiserver+json.yaml': patch })).toThrow('test failed at /spec/containers/0/command/0: "/usr/local/bin/kube-apiserver" is not "kube-apiserver"');
  });
});

// ---- rolling replacement model -------------------------------------------------------------

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const b64 = (value: object | Buffer) => (Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value))).toString('base64url');

/** A token as kube-apiserver signs it for a pod (`sa.key` is the same on every control-plane node). */
function tokenFrom(server: ApiServerIssuers, key: KeyObject): string {
  const body = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ iss: server.signs, aud: server.audiences, sub: 'system:serviceaccount:kube-system:coredns', exp: 4102444800 })}`;
  return `${body}.${b64(sign('sha256', Buffer.from(body), key))}`;
}

/** kube-apiserver's service-account authenticator: signature, `iss` among its issuers, an audience it serves. */
function accepts(server: ApiServerIssuers, jwt: string): boolean {
  const [header, payload, signature] = jwt.split('.');
  if (!verify('sha256', Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature, 'base64url'))) return false;
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { iss: string; aud: string[] };
  return server.accepts.includes(claims.iss) && claims.aud.some((a) => server.audiences.includes(a));
}

/**
 * Replaces the nodes one at a time (the roll's instance refresh, one AZ after another) and returns
 * every refusal: a token signed by any server at or before a moment, presented (through the API
 * NLB, to any server) at that moment.
 */
function rollingRefusals(from: ApiServerIssuers, to: ApiServerIssuers, nodes = 3): string[] {
  const refusals: string[] = [];
  const tokens: { jwt: string; by: string }[] = [];
  for (let replaced = 0; replaced <= nodes; replaced++) {
    const servers = Array.from({ length: nodes }, (_, i) => (i < replaced ? to : from));
    servers.forEach((s, i) => tokens.push({ jwt: tokenFrom(s, privateKey), by: `node ${i} (${replaced} replaced, signs ${s.signs})` }));
    servers.forEach((s, i) => {
      for (const t of tokens) if (!accepts(s, t.jwt)) refusals.push(`${replaced} replaced: node ${i} (accepts ${s.accepts.join(', ')}) refuses a token of ${t.by}`);
    });
  }
  return refusals;
}

describe('kubeadm patch of the etcd static pod (etcd volume: a missing data dir fails, never becomes an empty one)', () => {
  const patches = () => Object.fromEntries(controlPlaneFiles('complete').filter((f) => f.path.startsWith('/etc/node-bootstrap/kubeadm-patches/')).map((f) => [f.path.split('/').pop() as string, f.content]));
  const volumes = (pod: Record<string, unknown>) => (pod.spec as { volumes: { name: string; hostPath: { type: string } }[] }).volumes;

  it('makes the data dir a hostPath Directory and leaves the certificate dir as kubeadm wrote it', () => {
    const pod = applyKubeadmPatches('etcd', kubeadmEtcdPod(), patches());
    expect(Object.fromEntries(volumes(pod).map((v) => [v.name, v.hostPath.type]))).toEqual({ 'etcd-certs': 'DirectoryOrCreate', 'etcd-data': 'Directory' });
  });

  it('fails the kubeadm run when the data volume is not where the patch expects it, instead of changing another volume', () => {
    const pod = kubeadmEtcdPod();
    volumes(pod).reverse();
    expect(() => applyKubeadmPatches('etcd', pod, patches())).toThrow('test failed at /spec/volumes/1/name: "etcd-certs" is not "etcd-data"');
  });

  it('only the control plane gets it', () => {
    const worker = (parse(renderUserData(inputFor('production', 'worker'))) as { write_files: Files }).write_files;
    expect(worker.some((f) => f.path.endsWith('etcd+json.yaml'))).toBe(false);
  });
});

describe('rolling replacement of the control plane between stages', () => {
  it('(a) → (b), node by node: every token any server signs is accepted by every server', () => {
    expect(rollingRefusals(apiServerOf('accept-issuer'), apiServerOf('sign-with-issuer'))).toEqual([]);
  });

  it('every step of the migration, from a pre-IRSA control plane to complete, is safe to roll', () => {
    const chain = [PRE_IRSA, ...SERVICE_ACCOUNT_IDENTITY_STAGES.map(apiServerOf)];
    for (let i = 1; i < chain.length; i++) expect(rollingRefusals(chain[i - 1], chain[i])).toEqual([]);
    // Rolling back one stage (b → a) is as safe: both accept both.
    expect(rollingRefusals(apiServerOf('sign-with-issuer'), apiServerOf('accept-issuer'))).toEqual([]);
  });

  it('the one-step switch (pre-IRSA straight to signing with the new issuer) gives 401s during the roll', () => {
    const refusals = rollingRefusals(PRE_IRSA, ONE_STEP_SWITCH);
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals[0]).toBe(`1 replaced: node 1 (accepts ${LEGACY}) refuses a token of node 0 (1 replaced, signs ${issuer.url})`);
    // Skipping stage (a) with the staged patches fails the same way.
    expect(rollingRefusals(PRE_IRSA, apiServerOf('sign-with-issuer'))).toEqual(refusals);
  });
});
