import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { bootstrapNames, FAILOVER_ACCESS } from '@platform/platform-config';
import { systemdUnits } from '../src/private/units';
import { serviceAccountKeyTimings } from '../src/timings';
import { inputFor, kubeadmApiServerManifest, platform, requireTool, scratch, ssmStore, storedParameter, unitStartCommands, type FakeNode, type Rule } from './harness';
import { claims, issuer, kidOf, s3Store, stsCheck, token, type Published } from './service-account-tokens';

/*
 * The real service-account-key-rotation.sh and service-account-issuer.sh on several fake
 * control-plane nodes sharing one Parameter Store (create-only puts, SecureStrings, versions:
 * harness ssmStore), one issuer bucket and one kubeadm-certs Secret (what join-material.sh's
 * upload-certs leaves for joining nodes). A node's API server is modelled by what it loaded
 * when it (re)started: its signing key (sa.key) and its verification bundle; the leader
 * kube-controller-manager signs legacy token Secrets with the sa.key it loaded. Every token any
 * server mints must verify at every server, and the STS-audience ones against the published
 * JWKS, until they expire, while nodes are replaced at every phase boundary.
 */

const names = platform.namesOf('production');
const extra = bootstrapNames(names);
const provider = { url: issuer.url, clientIds: [issuer.audience] };
const CI_SECRET = `${FAILOVER_ACCESS.namespace}/${FAILOVER_ACCESS.tokenSecret}`;
const HOUR = 3600;
const START = 1_780_000_000;

const openssl = (...args: string[]) => {
  const run = spawnSync('openssl', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${run.stderr}`);
};
const publicKeys = (pem: string): KeyObject[] => (pem.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----\n?/g) ?? []).map((k) => createPublicKey(k));

/** An API server as it runs: the keys it read at its last start. */
interface Server {
  signing: KeyObject;
  accepted: KeyObject[];
  controllerManagerKey: KeyObject;
}

interface Minted {
  readonly jwt: string;
  readonly by: string;
  readonly at: number;
  readonly exp: number;
}

/** Verifies a JWS (RS256) the way kube-apiserver's token authenticator does: a key it was started with, by kid, then the signature. */
function serverAccepts(server: Server, jwt: string): boolean {
  const [h, p, s] = jwt.split('.');
  const { kid } = JSON.parse(Buffer.from(h, 'base64url').toString()) as { kid: string };
  const key = server.accepted.find((k) => kidOf(k) === kid);
  return key !== undefined && verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'));
}

const BUNDLE_FLAG = '--service-account-key-file=/etc/kubernetes/pki/sa-bundle.pub';
/** The key files a kube-apiserver manifest's flags name, on the fake node (its /etc/kubernetes is node.kube). */
function manifestFlags(node: FakeNode, name: string): string[] {
  const pod = parse(readFileSync(join(node.kube, 'manifests', 'kube-apiserver.yaml'), 'utf8')) as { spec: { containers: { command: string[] }[] } };
  return pod.spec.containers[0].command.filter((a) => a.startsWith(`--${name}=`)).map((a) => join(node.kube, a.slice(name.length + 3).replace(/^\/etc\/kubernetes\//, '')));
}

/** A legacy token as kube-controller-manager's tokens controller writes it into a Secret (never expires). */
const LEGACY_TOKEN_JS = `
const { createHash, createPrivateKey, createPublicKey, sign } = require('node:crypto');
const [keyFile, sub] = process.argv.slice(2);
const key = createPrivateKey(require('node:fs').readFileSync(keyFile));
const kid = createHash('sha256').update(createPublicKey(key).export({ type: 'spki', format: 'der' })).digest('base64url');
const b = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const input = b({ alg: 'RS256', kid }) + '.' + b({ iss: 'kubernetes/serviceaccount', sub });
process.stdout.write(Buffer.from(input + '.' + sign('sha256', Buffer.from(input), key).toString('base64url')).toString('base64'));
`;

class Cluster {
  readonly dir: string;
  readonly ssm: string;
  readonly s3: string;
  readonly nodes = new Map<string, FakeNode>();
  readonly servers = new Map<string, Server>();
  readonly minted: Minted[] = [];
  readonly failures: string[] = [];
  now = START;
  private count = 0;

  constructor(private readonly tmp: ReturnType<typeof scratch>) {
    this.dir = tmp.dir('rotation-');
    this.ssm = join(this.dir, 'ssm');
    this.s3 = join(this.dir, 's3');
    for (const d of ['kubeadm-certs', 'secrets']) mkdirSync(join(this.dir, d), { recursive: true });
    writeFileSync(join(this.dir, 'live'), '');
    writeFileSync(join(this.dir, 'legacy-token.js'), LEGACY_TOKEN_JS);
  }

  private rules(id: string, ip: string): Rule[] {
    const shared = JSON.stringify(this.dir);
    return [
      { cmd: 'curl', args: '*meta-data/instance-id', stdout: id },
      { cmd: 'curl', args: '*meta-data/local-ipv4', stdout: ip },
      // The kubelet stops kube-apiserver once its manifest is away; it serves again (/readyz) after
      // FAKE_RESTART_SECONDS (0 unless a test measures overlapping restarts): both ends go to a shared log.
      {
        cmd: 'crictl',
        args: 'ps --name ^kube-apiserver* -q',
        run: `[[ -f "$KUBE_DIR/manifests/kube-apiserver.yaml" ]] || { echo "down ${id}" >>${shared}/restarts; python3 -c "import time; time.sleep(float('\${FAKE_RESTART_SECONDS:-0}'))"; }; exit 0`,
      },
      { cmd: 'kubectl', args: `--server https://${ip}:6443 get --raw /readyz`, run: `echo "up ${id}" >>${shared}/restarts; exit 0` },
      // The public JWKS, as STS fetches it.
      { cmd: 'curl', args: `-fsS ${issuer.jwksUrl}`, run: `cat ${JSON.stringify(join(this.s3, issuer.bucket, issuer.jwksKey))} || exit 22` },
      { cmd: 'aws', args: 'ec2 describe-instances * --filters *', run: `tr '\\n' '\\t' <${shared}/live; echo` },
      // upload-certs: this node's sa.key/sa.pub become what every joining node downloads.
      { cmd: 'kubeadm', args: 'init phase upload-certs *', run: `cp "$KUBE_DIR/pki/sa.key" "$KUBE_DIR/pki/sa.pub" ${shared}/kubeadm-certs/` },
      { cmd: 'kubeadm', args: 'certs certificate-key', stdout: `${'b'.repeat(64)}\n` },
      { cmd: 'kubeadm', args: 'token create *', stdout: 'kubeadm join api:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:feed\n' },
      // Legacy token Secrets: listed, emptied (the tokens controller fills them again with the leader's key), read.
      {
        cmd: 'kubectl',
        args: 'get secrets -A --field-selector type=kubernetes.io/service-account-token *',
        run: `for f in ${shared}/secrets/*; do IFS=_ read -r ns name <<<"\${f##*/}"; printf '%s %s %s\\n' "$ns" "$name" "$(cat "$f")"; done; exit 0`,
      },
      { cmd: 'kubectl', args: '-n * patch secret * --type merge -p *', run: `node ${shared}/legacy-token.js ${shared}/kcm.key "system:serviceaccount:$2:$5" >${shared}/secrets/$2_$5; exit 0` },
      { cmd: 'kubectl', args: '-n * get secret * -o jsonpath={.data.token}', run: `cat ${shared}/secrets/$2_$5; exit 0` },
      { cmd: 'kubectl', args: 'get secret * -n * -o jsonpath={.data.token}', run: `cat ${shared}/secrets/$5_$3; exit 0` },
      { cmd: 'kubectl', args: 'get secret * -n * -o jsonpath={.data.ca*crt}', stdout: 'Y2E=' },
      // The API server's serving certificate names its advertise address (kubeadm's SANs: that, the
      // kubernetes Service IP and names), not the node's primary address when they differ (an etcd slot).
      {
        cmd: 'kubectl',
        args: '--server * get --raw /readyz',
        run: `host=\${2#https://}; host=\${host%:6443}; advertise=$(sed -n 's/^ *- --advertise-address=//p' "$KUBE_DIR/manifests/kube-apiserver.yaml"); [[ $host == "$advertise" ]] || { echo "Unable to connect to the server: tls: failed to verify certificate: x509: certificate is valid for 100.65.0.1, $advertise, not $host" >&2; exit 1; }; echo ok`,
      },
      s3Store(this.s3),
      ...ssmStore(this.ssm),
    ];
  }

  /** Runs a script in the background (spawnSync for minutes would starve vitest's worker RPC). */
  run(node: FakeNode, script: string, args: string[] = [], env: Record<string, string> = {}) {
    return node.runAsync(script, args, { BOOTSTRAP_NOW_EPOCH: String(this.now), RETRY_SLEEP_SECONDS: '1', ...env });
  }

  /** run, and fail the test with the script's stderr unless it succeeds. */
  async ok(node: FakeNode, script: string, args: string[] = [], env: Record<string, string> = {}) {
    const result = await this.run(node, script, args, env);
    if (result.status !== 0) throw new Error(`${script} ${args.join(' ')} on ${this.idOf(node)} failed:\n${result.stderr}`);
    this.restarted(node, result.stderr);
    return result;
  }

  idOf(node: FakeNode): string {
    return [...this.nodes].find(([, n]) => n === node)![0];
  }

  /** What kube-apiserver reads at start: the signing key file and every key of every --service-account-key-file its manifest names. */
  private load(node: FakeNode): Pick<Server, 'signing' | 'accepted'> {
    const [signingFile] = manifestFlags(node, 'service-account-signing-key-file');
    const keys = manifestFlags(node, 'service-account-key-file').flatMap((f) => publicKeys(readFileSync(f, 'utf8')));
    const accepted = keys.filter((k, i) => keys.findIndex((o) => kidOf(o) === kidOf(k)) === i);
    return { signing: createPrivateKey(readFileSync(signingFile)), accepted };
  }

  /** A static pod the script restarted reads its key files again. */
  private restarted(node: FakeNode, stderr: string) {
    const server = this.servers.get(this.idOf(node));
    if (!server) return;
    if (stderr.includes('kube-apiserver restarted')) Object.assign(server, this.load(node));
    if (stderr.includes('kube-controller-manager restarted')) server.controllerManagerKey = createPrivateKey(readFileSync(join(node.kube, 'pki', 'sa.key')));
    this.leaderKey();
  }

  /** The leader kube-controller-manager (the oldest live node here) signs legacy tokens. */
  private leaderKey() {
    const [leader] = this.live();
    if (leader) writeFileSync(join(this.dir, 'kcm.key'), this.servers.get(leader)!.controllerManagerKey.export({ type: 'pkcs8', format: 'pem' }));
  }

  live(): string[] {
    return readFileSync(join(this.dir, 'live'), 'utf8').split('\n').filter(Boolean);
  }

  /**
   * A control-plane node boots as control-plane.sh does it: the initialiser's kubeadm makes sa.key,
   * a joining node downloads sa.* (kubeadm-certs); key-set before the API server starts; at the end
   * of the boot the issuer documents and the key set. `replaces` leaves the cluster first.
   */
  async boot(replaces?: string, preBundle = false, before: readonly Rule[] = []): Promise<FakeNode> {
    this.count++;
    const id = `i-${this.count}`;
    // `before`: rules that answer ahead of the cluster's own (a race injected into one call).
    const node = this.tmp.node(inputFor('production', 'control-plane'), [...before, ...this.rules(id, `10.20.0.${this.count}`)]);
    this.nodes.set(id, node);
    const pki = join(node.kube, 'pki');
    mkdirSync(join(node.kube, 'manifests'), { recursive: true });
    // kubeadm's manifest from the node's patches; `preBundle`: a node of a cluster set up before the patch named the bundle.
    writeFileSync(join(node.kube, 'manifests', 'kube-apiserver.yaml'), kubeadmApiServerManifest(join(node.etc, 'kubeadm-patches'), preBundle ? BUNDLE_FLAG : undefined));
    writeFileSync(join(node.kube, 'manifests', 'kube-controller-manager.yaml'), 'kind: Pod\nmetadata: {name: kube-controller-manager}\n');
    writeFileSync(join(node.kube, 'admin.conf'), '');
    // control-plane.sh's marker once init/join finished (the timer's apply does nothing before it).
    writeFileSync(join(node.state, 'control-plane.done'), '');
    if (this.nodes.size === 1) {
      openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', join(pki, 'sa.key'));
      openssl('pkey', '-in', join(pki, 'sa.key'), '-pubout', '-out', join(pki, 'sa.pub'));
    } else {
      for (const f of ['sa.key', 'sa.pub']) copyFileSync(join(this.dir, 'kubeadm-certs', f), join(pki, f));
    }
    if (replaces) {
      writeFileSync(join(this.dir, 'live'), this.live().filter((l) => l !== replaces).map((l) => `${l}\n`).join(''));
      this.servers.delete(replaces);
    }
    await this.ok(node, 'service-account-issuer.sh', ['key-set']);
    await this.ok(node, 'service-account-key-rotation.sh', ['started']);
    const loaded = this.load(node);
    this.servers.set(id, { ...loaded, controllerManagerKey: loaded.signing });
    writeFileSync(join(this.dir, 'live'), [...this.live(), id].map((l) => `${l}\n`).join(''));
    this.leaderKey();
    if (this.nodes.size === 1) await this.ok(node, 'join-material.sh', ['publish']);
    await this.ok(node, 'service-account-issuer.sh');
    this.tick(`boot ${id}${replaces ? ` replacing ${replaces}` : ''}`);
    return node;
  }

  node(id: string): FakeNode {
    return this.nodes.get(id)!;
  }

  /**
   * service-account-keys.timer fires on every live node: what the rendered service's ExecStart runs,
   * then the period passes (the clock moves by OnUnitActiveSec). Returns each node's stderr.
   */
  async timerRound(what: string): Promise<Map<string, string>> {
    const [start] = unitStartCommands(systemdUnits('control-plane', platform.cluster('production'), [])['service-account-keys.service']!);
    const [script, ...args] = [start!.argv[1]!.split('/').at(-1)!, ...start!.argv.slice(2)];
    const out = new Map<string, string>();
    for (const id of this.live()) out.set(id, (await this.ok(this.node(id), script, args)).stderr);
    this.tick(`timer: ${what}`, serviceAccountKeyTimings().applyEverySeconds);
    return out;
  }

  published(): Published {
    const file = (key: string) => JSON.parse(readFileSync(join(this.s3, issuer.bucket, key), 'utf8'));
    return { discovery: file(issuer.discoveryKey), jwks: file(issuer.jwksKey) };
  }

  legacyToken(): string {
    return Buffer.from(readFileSync(join(this.dir, 'secrets', `${FAILOVER_ACCESS.namespace}_${FAILOVER_ACCESS.tokenSecret}`), 'utf8'), 'base64').toString();
  }

  /** The tokens controller fills the failover Secret with the leader's key. */
  createLegacySecret() {
    const run = spawnSync('node', [join(this.dir, 'legacy-token.js'), join(this.dir, 'kcm.key'), `system:serviceaccount:${FAILOVER_ACCESS.namespace}:${FAILOVER_ACCESS.serviceAccount}`], { encoding: 'utf8' });
    writeFileSync(join(this.dir, 'secrets', `${FAILOVER_ACCESS.namespace}_${FAILOVER_ACCESS.tokenSecret}`), run.stdout);
  }

  /**
   * Time passes by `seconds`; every live server mints a projected STS token (as the kubelet asks
   * for one: 1 h, refreshed at 80 %); then every token not expired must verify at every live server
   * and at STS, and the legacy Secret's token at every server.
   */
  tick(what: string, seconds = 10 * 60) {
    this.now += seconds;
    for (const [id, server] of this.servers) {
      const exp = this.now + HOUR;
      this.minted.push({ jwt: token(server.signing, claims({ iat: this.now, nbf: this.now, exp })), by: id, at: this.now, exp });
    }
    const published = this.published();
    for (const t of this.minted.filter((m) => m.exp > this.now)) {
      for (const [id, server] of this.servers) if (!serverAccepts(server, t.jwt)) this.failures.push(`${what}: token of ${t.by} (t+${t.at - START}s) refused by ${id}`);
      const sts = stsCheck(t.jwt, published, provider, this.now);
      if (sts !== 'valid') this.failures.push(`${what}: token of ${t.by} (t+${t.at - START}s) refused by STS: ${sts}`);
    }
    if (existsSync(join(this.dir, 'secrets', `${FAILOVER_ACCESS.namespace}_${FAILOVER_ACCESS.tokenSecret}`))) {
      for (const [id, server] of this.servers) if (!serverAccepts(server, this.legacyToken())) this.failures.push(`${what}: legacy token Secret ${CI_SECRET} refused by ${id}`);
    }
  }
}

describe('service-account-key-rotation.sh: announce, sign, retire with nodes replaced at every boundary', () => {
  const tmp = scratch();

  it('keeps every token verifiable at every API server and at STS until it expires, and ends with the new key alone', { timeout: 600_000 }, async () => {
    if (!requireTool('openssl')) return;
    const c = new Cluster(tmp);
    const a = await c.boot();
    await c.boot();
    await c.boot();
    c.createLegacySecret();
    c.tick('steady');
    const oldKid = kidOf(c.servers.get('i-1')!.signing);

    // Phase 1: announce. The next key goes into SSM (SecureString, cluster key, create-only).
    await c.ok(a, 'service-account-key-rotation.sh', ['announce']);
    const next = storedParameter(c.ssm, extra.serviceAccountNextKey)!;
    expect([next.type, next.keyId, next.version]).toEqual(['SecureString', names.kmsAlias, 1]);
    const newKid = kidOf(createPrivateKey(next.value));
    expect(storedParameter(c.ssm, extra.serviceAccountRotation)?.value).toBe('announce');
    c.tick('announced on i-1');
    // Not every node accepts the next key yet: sign refuses.
    const early = await c.run(a, 'service-account-key-rotation.sh', ['sign']);
    expect(early.status).toBe(1);
    expect(early.stderr).toContain(`[sign] FAILED: not every control-plane node accepts the next key ${newKid}: i-2 (signing=${oldKid} accepted=${oldKid})`);
    // A second announce keeps the stored key (create-only put answers ParameterAlreadyExists).
    await c.ok(a, 'service-account-key-rotation.sh', ['announce']);
    expect(storedParameter(c.ssm, extra.serviceAccountNextKey)?.version).toBe(1);
    const b2 = await c.boot('i-3'); // replaced at the boundary: boots with both keys
    expect(c.servers.get('i-4')!.accepted.map(kidOf)).toEqual([oldKid, newKid]);
    await c.ok(c.node('i-2'), 'service-account-key-rotation.sh', ['apply']);
    c.tick('announce applied');
    expect(c.published().jwks.keys.map((k) => k.kid)).toEqual([oldKid, newKid]);

    // Phase 2: sign.
    await c.ok(a, 'service-account-key-rotation.sh', ['sign']);
    // The key every node signed with until now becomes the previous one (a String: it is public).
    const previous = storedParameter(c.ssm, extra.serviceAccountPreviousKey)!;
    expect([previous.type, kidOf(createPublicKey(previous.value))]).toEqual(['String', oldKid]);
    expect(kidOf(c.servers.get('i-1')!.signing)).toBe(newKid);
    c.tick('signing on i-1');
    // upload-certs from a node that has not swapped yet would hand the old key to joiners: refused.
    const stale = await c.run(c.node('i-2'), 'join-material.sh', ['publish']);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain('FAILED: not uploading certificates with a stale sa.key');
    await c.boot('i-2'); // replaced at the boundary: signs with the next key, still accepts the old one
    expect([kidOf(c.servers.get('i-5')!.signing), c.servers.get('i-5')!.accepted.map(kidOf)]).toEqual([newKid, [newKid, oldKid]]);
    await c.ok(b2, 'service-account-key-rotation.sh', ['apply']);
    c.tick('sign applied');
    expect(c.published().jwks.keys.map((k) => k.kid)).toEqual([newKid, oldKid]);
    // Too early to retire: tokens signed with the old key may still be alive.
    const young = await c.run(a, 'service-account-key-rotation.sh', ['retire']);
    expect(young.status).toBe(1);
    expect(young.stderr).toMatch(/\[retire\] FAILED: phase sign is \d+s old: tokens signed with the old key may live until 86400s/);
    // Refreshed at 80 % of their hour: a day of ticks.
    for (let i = 0; i < 25; i++) c.tick('overlap', HOUR);

    // Phase 3: retire. The legacy Secret still carries the old key's token until now.
    expect(JSON.parse(Buffer.from(c.legacyToken().split('.')[0], 'base64url').toString()).kid).toBe(oldKid);
    await c.ok(a, 'service-account-key-rotation.sh', ['retire']);
    expect(JSON.parse(Buffer.from(c.legacyToken().split('.')[0], 'base64url').toString()).kid).toBe(newKid);
    // The failover kubeconfig in SSM carries the re-issued token.
    expect(storedParameter(c.ssm, names.ssm.ciKubeconfig)?.value).toContain(`token: ${c.legacyToken()}`);
    for (const name of [extra.serviceAccountRotation, extra.serviceAccountPreviousKey, extra.serviceAccountNextKey]) expect(storedParameter(c.ssm, name)).toBeUndefined();
    // kubeadm-certs holds the new key: a node joining from now on signs with it.
    expect(kidOf(createPrivateKey(readFileSync(join(c.dir, 'kubeadm-certs', 'sa.key'))))).toBe(newKid);
    c.tick('retired on i-1');
    await c.boot('i-4');
    for (const id of ['i-5']) await c.ok(c.node(id), 'service-account-key-rotation.sh', ['apply']);
    c.tick('retire applied');

    expect(c.failures).toEqual([]);
    expect(c.live()).toEqual(['i-1', 'i-5', 'i-6']);
    for (const [, server] of c.servers) expect([kidOf(server.signing), server.accepted.map(kidOf)]).toEqual([newKid, [newKid]]);
    expect(c.published().jwks.keys.map((k) => k.kid)).toEqual([newKid]);
    // Every node reports the key set it runs with.
    for (const id of c.live()) expect(storedParameter(c.ssm, `${extra.serviceAccountKeyAcks}/${id}`)?.value).toBe(`signing=${newKid} accepted=${newKid}`);
  });

  it('service-account-keys.timer converges every live node after each phase with no apply by hand; a node replaced mid-rotation converges at boot', { timeout: 600_000 }, async () => {
    if (!requireTool('openssl')) return;
    const c = new Cluster(tmp);
    const a = await c.boot();
    await c.boot();
    await c.boot();
    c.createLegacySecret();
    const oldKid = kidOf(c.servers.get('i-1')!.signing);
    // Idempotent: in the steady state a round restarts nothing.
    for (const [, stderr] of await c.timerRound('steady')) {
      expect(stderr).toContain('kube-apiserver already runs with this key set');
      expect(stderr).not.toContain('restarted');
    }

    await c.ok(a, 'service-account-key-rotation.sh', ['announce']);
    const newKid = kidOf(createPrivateKey(storedParameter(c.ssm, extra.serviceAccountNextKey)!.value));
    expect((await c.run(a, 'service-account-key-rotation.sh', ['sign'])).stderr).toContain(`not every control-plane node accepts the next key ${newKid}: i-2`);
    const announced = await c.timerRound('announce');
    expect(announced.get('i-2')).toContain('kube-apiserver restarted');
    expect(announced.get('i-1')).toContain('kube-apiserver already runs with this key set');
    for (const id of c.live()) expect(storedParameter(c.ssm, `${extra.serviceAccountKeyAcks}/${id}`)?.value).toBe(`signing=${oldKid} accepted=${oldKid},${newKid}`);

    await c.ok(a, 'service-account-key-rotation.sh', ['sign']);
    // Before the other nodes' timers fired: retire names them.
    expect((await c.run(a, 'service-account-key-rotation.sh', ['retire'])).stderr).toContain(`not every control-plane node signs with the next key ${newKid}: i-2 (signing=${oldKid} `);
    await c.boot('i-3'); // replaced mid-rotation: its boot takes the sign phase, no timer needed
    expect([kidOf(c.servers.get('i-4')!.signing), c.servers.get('i-4')!.accepted.map(kidOf)]).toEqual([newKid, [newKid, oldKid]]);
    await c.timerRound('sign');
    for (const [, stderr] of await c.timerRound('sign, again')) expect(stderr).not.toContain('restarted');
    // The timer keeps firing (nothing to do) while old-key tokens expire.
    for (let i = 0; i < 25; i++) c.tick('overlap', HOUR);

    await c.ok(a, 'service-account-key-rotation.sh', ['retire']);
    await c.timerRound('retire');
    expect(c.failures).toEqual([]);
    for (const [, server] of c.servers) expect([kidOf(server.signing), server.accepted.map(kidOf)]).toEqual([newKid, [newKid]]);
    for (const id of c.live()) expect(storedParameter(c.ssm, `${extra.serviceAccountKeyAcks}/${id}`)?.value).toBe(`signing=${newKid} accepted=${newKid}`);
    expect(c.published().jwks.keys.map((k) => k.kid)).toEqual([newKid]);
  });

  it('service-account-keys.timer firing on three nodes at once restarts one kube-apiserver at a time (cluster-wide create-only SSM lock); the others apply on a later run', { timeout: 600_000 }, async () => {
    if (!requireTool('openssl')) return;
    const c = new Cluster(tmp);
    const a = await c.boot();
    await c.boot();
    await c.boot();
    await c.ok(a, 'service-account-key-rotation.sh', ['announce']);
    const [start] = unitStartCommands(systemdUnits('control-plane', platform.cluster('production'), [])['service-account-keys.service']!);
    const [script, ...args] = [start!.argv[1]!.split('/').at(-1)!, ...start!.argv.slice(2)];
    const log = join(c.dir, 'restarts');
    const pending = new Set(['i-2', 'i-3']);
    let rounds = 0;
    for (; rounds < 4 && pending.size > 0; rounds++) {
      writeFileSync(log, '');
      // Every node's timer fires together (the same phase change, RandomizedDelaySec drawing close values).
      const runs = await Promise.all(c.live().map(async (id) => [id, await c.node(id).runAsync(script, args, { BOOTSTRAP_NOW_EPOCH: String(c.now), RETRY_SLEEP_SECONDS: '1', FAKE_RESTART_SECONDS: '3' })] as const));
      for (const [id, result] of runs) {
        expect(result.status, result.stderr).toBe(0);
        if (result.stderr.includes('kube-apiserver restarted')) pending.delete(id);
      }
      // How many API servers were down at once: from the kubelet stopping one until it is ready again.
      const down = new Set<string>();
      let most = 0;
      for (const [event, id] of readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' '))) {
        if (event === 'down') down.add(id!);
        else down.delete(id!);
        most = Math.max(most, down.size);
      }
      expect(most, `round ${rounds + 1}: ${readFileSync(log, 'utf8')}`).toBeLessThanOrEqual(1);
      c.now += serviceAccountKeyTimings().applyEverySeconds;
    }
    expect(pending).toEqual(new Set());
    expect(rounds).toBeGreaterThanOrEqual(2);
    expect(storedParameter(c.ssm, extra.serviceAccountRestartLock)).toBeUndefined();
  });

  it('the restart lock: a live holder blocks; a holder that is gone, or holds it past the TTL, is taken over by one node; a lock of its own is reused', { timeout: 300_000 }, async () => {
    if (!requireTool('openssl')) return;
    const c = new Cluster(tmp);
    const a = await c.boot();
    await c.boot();
    await c.ok(a, 'service-account-key-rotation.sh', ['announce']);
    const node = c.node('i-2');
    const hold = (value: string) => {
      // Written as the holder's put-parameter would (ssmStore's layout: create-only, version 1).
      const d = join(c.ssm, extra.serviceAccountRestartLock.replace(/\//g, '%2F'));
      rmSync(d, { recursive: true, force: true });
      mkdirSync(d, { recursive: true });
      for (const [f, v] of Object.entries({ value, type: 'String', key: '', version: '1\n', modified: '' })) writeFileSync(join(d, f), v);
    };
    hold(`holder=i-1 since=${c.now}`);
    const blocked = await c.run(node, 'service-account-key-rotation.sh', ['apply']);
    expect([blocked.status, blocked.stderr]).toEqual([0, expect.stringContaining(`i-1 restarts its kube-apiserver (restart lock since ${c.now}): not restarting here at the same time`)]);
    expect(blocked.stderr).not.toContain('kube-apiserver restarted');

    hold(`holder=i-99 since=${c.now}`); // gone: EC2 no longer lists it
    const takeover = await c.run(node, 'service-account-key-rotation.sh', ['apply']);
    expect(takeover.stderr).toContain(`took the restart lock over from i-99 (gone, or holding it since ${c.now})`);
    expect(takeover.stderr).toContain('kube-apiserver restarted');
    // The takeover marker is deleted once the lock is overwritten: none is left behind in SSM.
    expect(storedParameter(c.ssm, `${extra.serviceAccountRestartLock}/takeover-i-99-${c.now}`)).toBeUndefined();
    expect(storedParameter(c.ssm, extra.serviceAccountRestartLock)).toBeUndefined();

    // A second waiter that read the same stale value while another node is mid-takeover (its marker exists) does not take it as well.
    hold(`holder=i-99 since=${c.now}`);
    const marker = join(c.ssm, `${extra.serviceAccountRestartLock}/takeover-i-99-${c.now}`.replace(/\//g, '%2F'));
    mkdirSync(marker, { recursive: true });
    for (const [f, v] of Object.entries({ value: 'i-3', type: 'String', key: '', version: '1\n', modified: '' })) writeFileSync(join(marker, f), v);
    rmSync(join(node.state, 'service-account-keys.applied'));
    const second = await c.run(node, 'service-account-key-rotation.sh', ['apply']);
    expect(second.stderr).toContain('another node takes over the restart lock from i-99: next run');
    expect(second.stderr).not.toContain('kube-apiserver restarted');

    hold(`holder=i-1 since=${c.now - 1800}`); // live, but past RESTART_LOCK_TTL_SECONDS: its apply died
    expect((await c.run(node, 'service-account-key-rotation.sh', ['apply'])).stderr).toContain('took the restart lock over from i-1');

    hold(`holder=i-2 since=${c.now}`); // its own, left by an apply that died
    rmSync(join(node.state, 'service-account-keys.applied'));
    expect((await c.run(node, 'service-account-key-rotation.sh', ['apply'])).stderr).toContain('kube-apiserver restarted');
  });

  it('the restart lock: a waiter whose takeover marker is created after another node\'s takeover finished (marker deleted) re-reads the lock and backs off', { timeout: 300_000 }, async () => {
    if (!requireTool('openssl')) return;
    const c = new Cluster(tmp);
    const a = await c.boot();
    const lockDir = join(c.ssm, extra.serviceAccountRestartLock.replace(/\//g, '%2F'));
    // i-2 read the stale lock of i-99; before its marker's create-only put, i-1 took the lock over and deleted
    // its own marker (the same name): the put succeeds as SSM's would, and the lock now holds i-1's value.
    const race: Rule = {
      cmd: 'aws',
      args: `ssm put-parameter --region * --name ${extra.serviceAccountRestartLock}/takeover-i-99-* *`,
      times: 1,
      run: [
        'for ((i = 1; i < $#; i++)); do j=$((i + 1)); [[ ${!i} != --name ]] || name=${!j}; done',
        `printf 'holder=i-1 since=%s' "$BOOTSTRAP_NOW_EPOCH" >${JSON.stringify(join(lockDir, 'value'))}`,
        `d=${JSON.stringify(c.ssm)}/\${name//\\//%2F}; mkdir "$d" || exit 254`,
        `printf '%s' i-2 >"$d/value"; printf String >"$d/type"; : >"$d/key"; : >"$d/modified"; echo 1 >"$d/version"`,
        `echo '{"Version": 1, "Tier": "Standard"}'; exit 0`,
      ].join('\n'),
    };
    const b = await c.boot(undefined, false, [race]);
    await c.ok(a, 'service-account-key-rotation.sh', ['announce']);
    mkdirSync(lockDir, { recursive: true });
    for (const [f, v] of Object.entries({ value: `holder=i-99 since=${c.now}`, type: 'String', key: '', version: '1\n', modified: '' })) writeFileSync(join(lockDir, f), v);
    const marker = `${extra.serviceAccountRestartLock}/takeover-i-99-${c.now}`;
    const waiter = await c.run(b, 'service-account-key-rotation.sh', ['apply']);
    expect(waiter.stderr).toContain('the restart lock changed meanwhile (another node took it over from i-99, or released it): next run');
    expect(waiter.stderr).not.toContain('kube-apiserver restarted');
    // i-1's lock stays i-1's, and i-2's marker is gone again.
    expect(storedParameter(c.ssm, extra.serviceAccountRestartLock)?.value).toBe(`holder=i-1 since=${c.now}`);
    expect(storedParameter(c.ssm, marker)).toBeUndefined();
  });

  it('a restart that fails keeps the lock, marked failed, and no other node restarts into the same failure, however old', { timeout: 300_000 }, async () => {
    if (!requireTool('openssl')) return;
    const c = new Cluster(tmp);
    const a = await c.boot();
    const b = await c.boot();
    await c.ok(a, 'service-account-key-rotation.sh', ['announce']);
    // i-1's kube-apiserver manifest is gone (a broken node) and its key set is due again: its restart dies while it holds the lock.
    rmSync(join(a.kube, 'manifests', 'kube-apiserver.yaml'));
    rmSync(join(a.state, 'service-account-keys.applied'));
    const failed = await c.run(a, 'service-account-key-rotation.sh', ['apply']);
    expect([failed.status, failed.stderr]).toEqual([1, expect.stringContaining('kube-apiserver.yaml missing')]);
    expect(storedParameter(c.ssm, extra.serviceAccountRestartLock)?.value).toBe(`holder=i-1 since=${c.now} failed=1`);
    rmSync(join(b.state, 'service-account-keys.applied'));
    const waiter = await c.run(b, 'service-account-key-rotation.sh', ['apply'], { BOOTSTRAP_NOW_EPOCH: String(c.now + 3600) });
    expect(waiter.status, waiter.stderr).toBe(0);
    expect(waiter.stderr).toContain('the restart lock records a failed kube-apiserver restart on i-1');
    expect(waiter.stderr).not.toContain('kube-apiserver restarted');
  });

  it('the timer is bounded: every period plus jitter plus one whole apply (TimeoutStartSec), and does nothing on a node that has not joined', () => {
    const units = systemdUnits('control-plane', platform.cluster('production'), []);
    const t = serviceAccountKeyTimings();
    expect(units['service-account-keys.timer']).toContain(`OnUnitActiveSec=${t.applyEverySeconds}s`);
    expect(units['service-account-keys.timer']).toContain(`RandomizedDelaySec=${t.jitterSeconds}s`);
    expect(units['service-account-keys.service']).toContain(`TimeoutStartSec=${t.applyTimeoutSeconds}s`);
    expect(t.convergeWithinSeconds).toBe(1230);
    expect(systemdUnits('worker', platform.cluster('production'), [])['service-account-keys.timer']).toBeUndefined();
    const fresh = tmp.node(inputFor('production', 'control-plane'), []);
    const result = fresh.run('service-account-key-rotation.sh', ['apply']);
    expect([result.status, result.calls.filter((c) => c.startsWith('aws') || c.startsWith('crictl'))]).toEqual([0, []]);
    expect(result.stderr).toContain('not part of the control plane yet: nothing to apply');
  });

  it('a node whose kube-apiserver manifest lacks the bundle flag (a cluster set up before it) reports only sa.pub, so sign refuses', { timeout: 300_000 }, async () => {
    if (!requireTool('openssl')) return;
    const c = new Cluster(tmp);
    const a = await c.boot();
    const old = await c.boot(undefined, true);
    const oldKid = kidOf(c.servers.get('i-1')!.signing);
    await c.ok(a, 'service-account-key-rotation.sh', ['announce']);
    const newKid = kidOf(createPrivateKey(storedParameter(c.ssm, extra.serviceAccountNextKey)!.value));
    await c.ok(old, 'service-account-key-rotation.sh', ['apply']);
    // The bundle on its disk lists the next key, but its API server never reads that file.
    expect(publicKeys(readFileSync(join(old.kube, 'pki', 'sa-bundle.pub'), 'utf8')).map(kidOf)).toEqual([oldKid, newKid]);
    expect(c.servers.get('i-2')!.accepted.map(kidOf)).toEqual([oldKid]);
    const refused = await c.run(a, 'service-account-key-rotation.sh', ['sign']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`[sign] FAILED: not every control-plane node accepts the next key ${newKid}: i-2 (signing=${oldKid} accepted=${oldKid})`);
    expect(storedParameter(c.ssm, extra.serviceAccountRotation)?.value).toBe('announce');
    // Replaced by a node whose manifest names the bundle (the runbook's way out), sign goes ahead.
    await c.boot('i-2');
    await c.ok(a, 'service-account-key-rotation.sh', ['sign']);
    c.tick('signing after the replacement');
    expect(c.failures).toEqual([]);
  });

  it('the same checks catch the runbook order it replaces: swap on one node first, publish after, replacements without the old key', { timeout: 300_000 }, async () => {
    if (!requireTool('openssl')) return;
    const c = new Cluster(tmp);
    const a = await c.boot();
    await c.boot();
    c.tick('steady');
    // Old step 2 on the first node: new sa.key, sa.pub + sa-previous.pub accepted, API server restarted.
    const pki = join(a.kube, 'pki');
    copyFileSync(join(pki, 'sa.pub'), join(pki, 'sa-previous.pub'));
    openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', join(pki, 'sa.key'));
    openssl('pkey', '-in', join(pki, 'sa.key'), '-pubout', '-out', join(pki, 'sa.pub'));
    writeFileSync(join(pki, 'sa-bundle.pub'), readFileSync(join(pki, 'sa.pub'), 'utf8') + readFileSync(join(pki, 'sa-previous.pub'), 'utf8'));
    Object.assign(c.servers.get('i-1')!, { signing: createPrivateKey(readFileSync(join(pki, 'sa.key'))), accepted: publicKeys(readFileSync(join(pki, 'sa-bundle.pub'), 'utf8')) });
    c.tick('old step 2 on i-1');
    expect(c.failures.some((f) => f.includes('token of i-1') && f.includes('refused by i-2'))).toBe(true);
    expect(c.failures.some((f) => f.includes('token of i-1') && f.includes('refused by STS: kid'))).toBe(true);
    // A node replaced meanwhile joins with the current key only (kubeadm-certs from i-1): old tokens 401 there.
    await c.ok(a, 'join-material.sh', ['publish']);
    c.failures.length = 0;
    await c.boot('i-2');
    expect(c.failures.some((f) => f.includes('refused by i-3'))).toBe(true);
  });
});

describe('service-account-issuer.sh key-set: what a booting node builds from the rotation state', () => {
  const tmp = scratch();

  it('stops instead of guessing when the next key named by the phase is missing, and names the phase it expected', async () => {
    if (!requireTool('openssl')) return;
    const c = new Cluster(tmp);
    const a = await c.boot();
    spawnSync('bash', [join(a.fakeDir, 'bin', 'aws'), 'ssm', 'put-parameter', '--name', extra.serviceAccountRotation, '--type', 'String', '--value', 'sign'], { env: { ...process.env, FAKE_DIR: a.fakeDir } });
    const result = await c.run(a, 'service-account-issuer.sh', ['key-set']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`FAILED: rotation 'sign' but ${extra.serviceAccountNextKey} cannot be read (exit 3)`);
    spawnSync('bash', [join(a.fakeDir, 'bin', 'aws'), 'ssm', 'put-parameter', '--name', extra.serviceAccountRotation, '--type', 'String', '--value', 'swap', '--overwrite'], { env: { ...process.env, FAKE_DIR: a.fakeDir } });
    expect((await c.run(a, 'service-account-issuer.sh', ['key-set'])).stderr).toContain(`FAILED: ${extra.serviceAccountRotation} is 'swap': expected announce or sign`);
    // A rotation is refused while one is in another phase.
    const announce = await c.run(a, 'service-account-key-rotation.sh', ['announce']);
    expect(announce.stderr).toContain("[announce] FAILED: a rotation is in phase 'swap': finish it first");
    expect(readdirSync(c.ssm).map(decodeURIComponent)).not.toContain(extra.serviceAccountNextKey);
  });
});
