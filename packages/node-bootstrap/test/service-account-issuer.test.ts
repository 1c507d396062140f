import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey, createPrivateKey, sign, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { awsError, inputFor, platform, requireTool, scratch, ssmStore, type FakeNode, type Rule } from './harness';

/*
 * The real service-account-issuer.sh publishes from a freshly generated key; a token signed
 * the way kube-apiserver signs one is then checked against what it published with the checks
 * AWS STS makes for AssumeRoleWithWebIdentity through an IAM OIDC provider.
 */

const issuer = platform.namesOf('production').serviceAccountIssuer;
const previousKeyParameter = '/hakube/production/service-account/previous-public-key';

/** `aws s3api put-object` into a directory: the object, and its Content-Type beside it. */
function s3Store(dir: string): Rule {
  return {
    cmd: 'aws',
    args: 's3api put-object *',
    run: `store=${JSON.stringify(dir)}; bucket= key= body= type=
shift 2; while (($#)); do case $1 in --bucket) bucket=$2; shift 2 ;; --key) key=$2; shift 2 ;; --body) body=$2; shift 2 ;; --content-type) type=$2; shift 2 ;; *) shift ;; esac; done
mkdir -p "$(dirname "$store/$bucket/$key")"; cp "$body" "$store/$bucket/$key"; printf '%s' "$type" >"$store/$bucket/$key.content-type"
echo '{}'; exit 0`,
  };
}

const openssl = (...args: string[]) => {
  const run = spawnSync('openssl', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${run.stderr}`);
};

/** A key pair as kubeadm writes it: sa.key (private) and sa.pub (PKIX "PUBLIC KEY" PEM). */
function keyPair(dir: string, name: string, algorithm: 'RSA' | 'EC' = 'RSA'): { privateKey: KeyObject; publicPem: string; publicFile: string } {
  const keyFile = join(dir, `${name}.key`);
  const publicFile = join(dir, `${name}.pub`);
  if (algorithm === 'RSA') openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyFile);
  else openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile);
  openssl('pkey', '-in', keyFile, '-pubout', '-out', publicFile);
  return { privateKey: createPrivateKey(readFileSync(keyFile)), publicPem: readFileSync(publicFile, 'utf8'), publicFile };
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');
/** kube-apiserver's key id: base64url(SHA-256(DER SubjectPublicKeyInfo)), computed here independently of the script. */
const kidOf = (key: KeyObject) => b64url(createHash('sha256').update(createPublicKey(key).export({ type: 'spki', format: 'der' })).digest());

interface Claims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  'kubernetes.io': Record<string, unknown>;
}

const NOW = 1_780_000_000;
function claims(overrides: Partial<Claims> = {}): Claims {
  return {
    aud: [issuer.audience],
    exp: NOW + 3600,
    iat: NOW,
    iss: issuer.url,
    'kubernetes.io': { namespace: 'kube-system', pod: { name: 'ebs-csi-controller-0', uid: '7b1c' }, serviceaccount: { name: 'ebs-csi-controller-sa', uid: '5e2d' } },
    nbf: NOW,
    sub: issuer.subject('kube-system', 'ebs-csi-controller-sa'),
    ...overrides,
  };
}

/** A projected service-account token as kube-apiserver signs it (JWS compact, header alg + kid). */
function token(key: KeyObject, body: Claims, kid = kidOf(key)): string {
  const alg = key.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256';
  const input = `${b64url(JSON.stringify({ alg, kid }))}.${b64url(JSON.stringify(body))}`;
  const signature = alg === 'ES256' ? sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }) : sign('sha256', Buffer.from(input), key);
  return `${input}.${b64url(signature)}`;
}

interface Published {
  discovery: Record<string, unknown>;
  jwks: { keys: (JsonWebKey & { kid: string; alg: string; use: string })[] };
}

/** What STS checks before AssumeRoleWithWebIdentity: returns the failure, or 'valid'. */
function stsCheck(jwt: string, published: Published, provider: { url: string; clientIds: string[] }, now = NOW): string {
  const { discovery, jwks } = published;
  if (discovery.issuer !== provider.url) return 'discovery issuer is not the provider URL';
  if (typeof discovery.jwks_uri !== 'string' || !discovery.jwks_uri.startsWith(`${provider.url}/`)) return 'jwks_uri is not under the issuer';
  const [h, p, s] = jwt.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg: string; kid: string };
  const body = JSON.parse(Buffer.from(p, 'base64url').toString()) as Claims;
  if (!(discovery.id_token_signing_alg_values_supported as string[]).includes(header.alg)) return `alg ${header.alg} not supported`;
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) return `kid ${header.kid} not in the JWKS`;
  if (jwk.alg !== header.alg) return 'alg differs from the key';
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const options = header.alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' as const } : key;
  if (!verify('sha256', Buffer.from(`${h}.${p}`), options, Buffer.from(s, 'base64url'))) return 'signature invalid';
  if (body.iss !== provider.url) return 'iss is not the provider URL';
  if (![body.aud].flat().some((a) => provider.clientIds.includes(a))) return 'aud is not a client id of the provider';
  if (!/^system:serviceaccount:[a-z0-9-]+:[a-z0-9.-]+$/.test(body.sub)) return 'sub is not a service account';
  if (body.exp <= now) return 'expired';
  if (body.nbf > now) return 'not yet valid';
  return 'valid';
}

describe('service-account-issuer.sh: discovery document and JWKS as kube-apiserver serves them, accepted the way STS checks', () => {
  const tmp = scratch();
  const provider = { url: issuer.url, clientIds: [issuer.audience] };

  const setup = (rules: Rule[] = []) => {
    const dir = tmp.dir('issuer-');
    const node: FakeNode = tmp.node(inputFor('production', 'control-plane'), [...rules, s3Store(join(dir, 's3')), ...ssmStore(join(dir, 'ssm'))]);
    return { node, dir, s3: join(dir, 's3', issuer.bucket) };
  };
  const publish = (node: FakeNode, env: Record<string, string> = {}) => node.run('service-account-issuer.sh', [], env);
  const read = (s3: string): Published => ({
    discovery: JSON.parse(readFileSync(join(s3, issuer.discoveryKey), 'utf8')),
    jwks: JSON.parse(readFileSync(join(s3, issuer.jwksKey), 'utf8')),
  });

  it('publishes both documents from sa.pub, and a token kube-apiserver would sign passes every STS check', () => {
    if (!requireTool('openssl')) return;
    const { node, s3, dir } = setup();
    const sa = keyPair(dir, 'sa');
    writeFileSync(join(node.kube, 'pki', 'sa.pub'), sa.publicPem);
    const result = publish(node);
    expect(result.status, result.stderr).toBe(0);
    for (const key of [issuer.discoveryKey, issuer.jwksKey]) expect(readFileSync(join(s3, `${key}.content-type`), 'utf8')).toBe('application/json');
    const published = read(s3);
    // Exactly kube-apiserver's bytes: compact JSON, its field order, the key id from the DER.
    const jwk = createPublicKey(sa.privateKey).export({ format: 'jwk' });
    expect(readFileSync(join(s3, issuer.jwksKey), 'utf8')).toBe(`{"keys":[{"use":"sig","kty":"RSA","kid":"${kidOf(sa.privateKey)}","alg":"RS256","n":"${jwk.n}","e":"${jwk.e}"}]}`);
    expect(readFileSync(join(s3, issuer.discoveryKey), 'utf8')).toBe(
      `{"issuer":"${issuer.url}","jwks_uri":"${issuer.jwksUrl}","response_types_supported":["id_token"],"subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"]}`,
    );
    expect(stsCheck(token(sa.privateKey, claims()), published, provider)).toBe('valid');
  });

  it('fails every forged or misdirected token: other key, wrong iss, wrong aud, unknown kid, bad sub, expired', () => {
    if (!requireTool('openssl')) return;
    const { node, s3, dir } = setup();
    const sa = keyPair(dir, 'sa');
    const other = keyPair(dir, 'other');
    writeFileSync(join(node.kube, 'pki', 'sa.pub'), sa.publicPem);
    expect(publish(node).status).toBe(0);
    const published = read(s3);
    // Another key claiming the cluster key's id: the signature does not verify.
    expect(stsCheck(token(other.privateKey, claims(), kidOf(sa.privateKey)), published, provider)).toBe('signature invalid');
    // Another key with its own id: not in the JWKS.
    expect(stsCheck(token(other.privateKey, claims()), published, provider)).toBe(`kid ${kidOf(other.privateKey)} not in the JWKS`);
    expect(stsCheck(token(sa.privateKey, claims({ iss: 'https://kubernetes.default.svc.cluster.local' })), published, provider)).toBe('iss is not the provider URL');
    expect(stsCheck(token(sa.privateKey, claims({ aud: ['https://kubernetes.default.svc.cluster.local'] })), published, provider)).toBe('aud is not a client id of the provider');
    expect(stsCheck(token(sa.privateKey, claims({ sub: 'system:node:ip-10-0-0-1' })), published, provider)).toBe('sub is not a service account');
    expect(stsCheck(token(sa.privateKey, claims({ exp: NOW - 1 })), published, provider)).toBe('expired');
    // A provider for another issuer URL does not accept these documents.
    expect(stsCheck(token(sa.privateKey, claims()), published, { ...provider, url: 'https://other-oidc.s3.ap-northeast-2.amazonaws.com' })).toBe('discovery issuer is not the provider URL');
  });

  it('publishes the same bytes for the same key (every node, every boot, a restore that brings back sa.*) and new bytes for a new key', () => {
    if (!requireTool('openssl')) return;
    const { node, s3, dir } = setup();
    const sa = keyPair(dir, 'sa');
    writeFileSync(join(node.kube, 'pki', 'sa.pub'), sa.publicPem);
    expect(publish(node).status).toBe(0);
    const first = readFileSync(join(s3, issuer.jwksKey));
    const second = setup();
    writeFileSync(join(second.node.kube, 'pki', 'sa.pub'), sa.publicPem);
    expect(publish(second.node).status).toBe(0);
    expect(readFileSync(join(second.s3, issuer.jwksKey)).equals(first)).toBe(true);
    expect(readFileSync(join(second.s3, issuer.discoveryKey)).equals(readFileSync(join(s3, issuer.discoveryKey)))).toBe(true);
    writeFileSync(join(node.kube, 'pki', 'sa.pub'), keyPair(dir, 'fresh').publicPem);
    expect(publish(node).status).toBe(0);
    expect(readFileSync(join(s3, issuer.jwksKey)).equals(first)).toBe(false);
  });

  it('publishes the previous key from SSM beside sa.pub during a rotation overlap, so old and new tokens both pass; without it only the new key', () => {
    if (!requireTool('openssl')) return;
    const dir = tmp.dir('issuer-');
    const previous = keyPair(dir, 'previous');
    const current = keyPair(dir, 'current');
    const { node, s3 } = setup([{ cmd: 'aws', args: `ssm get-parameter * --name ${previousKeyParameter} *`, stdout: previous.publicPem }]);
    writeFileSync(join(node.kube, 'pki', 'sa.pub'), current.publicPem);
    expect(publish(node).status).toBe(0);
    const overlap = read(s3);
    expect(overlap.jwks.keys.map((k) => k.kid)).toEqual([kidOf(current.privateKey), kidOf(previous.privateKey)]);
    expect(stsCheck(token(previous.privateKey, claims()), overlap, provider)).toBe('valid');
    expect(stsCheck(token(current.privateKey, claims()), overlap, provider)).toBe('valid');
    // The operator deletes the parameter once old tokens have expired (ParameterNotFound): the old key leaves the JWKS.
    node.setRules([s3Store(join(dir, 's3')), ...ssmStore(join(dir, 'ssm'))]);
    expect(publish(node).status).toBe(0);
    const after = JSON.parse(readFileSync(join(dir, 's3', issuer.bucket, issuer.jwksKey), 'utf8')) as Published['jwks'];
    expect(after.keys.map((k) => k.kid)).toEqual([kidOf(current.privateKey)]);
    expect(stsCheck(token(previous.privateKey, claims()), { ...overlap, jwks: after }, provider)).toBe(`kid ${kidOf(previous.privateKey)} not in the JWKS`);
  });

  it('publishes an EC P-256 key as ES256, and its tokens pass', () => {
    if (!requireTool('openssl')) return;
    const { node, s3, dir } = setup();
    const sa = keyPair(dir, 'sa', 'EC');
    writeFileSync(join(node.kube, 'pki', 'sa.pub'), sa.publicPem);
    expect(publish(node).status).toBe(0);
    const jwk = createPublicKey(sa.privateKey).export({ format: 'jwk' });
    expect(readFileSync(join(s3, issuer.jwksKey), 'utf8')).toBe(`{"keys":[{"use":"sig","kty":"EC","kid":"${kidOf(sa.privateKey)}","crv":"P-256","alg":"ES256","x":"${jwk.x}","y":"${jwk.y}"}]}`);
    const published = read(s3);
    expect(published.discovery.id_token_signing_alg_values_supported).toEqual(['ES256']);
    expect(stsCheck(token(sa.privateKey, claims()), published, provider)).toBe('valid');
  });

  it('publishes nothing when the previous-key parameter cannot be read (it might still be needed) or sa.pub is missing', () => {
    if (!requireTool('openssl')) return;
    const throttled = setup([awsError(`ssm get-parameter * --name ${previousKeyParameter} *`, 'ThrottlingException')]);
    writeFileSync(join(throttled.node.kube, 'pki', 'sa.pub'), keyPair(throttled.dir, 'sa').publicPem);
    const result = publish(throttled.node, { RETRY_SLEEP_SECONDS: '0' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`node-bootstrap-service-account-issuer [read-keys] FAILED: reading ${previousKeyParameter} failed: publishing without it could drop a key still in use`);
    expect(result.calls.filter((c) => c.startsWith('aws s3api'))).toEqual([]);
    const empty = setup();
    const missing = publish(empty.node);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`FAILED: ${empty.node.kube}/pki/sa.pub missing: not a control-plane node yet`);
    expect(existsSync(empty.s3)).toBe(false);
  });

  it('is run by control-plane.sh at every boot and writes the names from platform-config into the env', () => {
    const { node } = setup();
    const env = node.file(join(node.etc, 'env'));
    expect(env).toContain(`SA_ISSUER_URL='${issuer.url}'\n`);
    expect(env).toContain(`SA_JWKS_URL='${issuer.jwksUrl}'\n`);
    expect(env).toContain(`SA_ISSUER_BUCKET='${issuer.bucket}'\n`);
    expect(env).toContain(`SA_DISCOVERY_KEY='.well-known/openid-configuration'\n`);
    expect(env).toContain(`SA_JWKS_KEY='openid/v1/jwks'\n`);
    expect(env).toContain(`SSM_SA_PREVIOUS_KEY='${previousKeyParameter}'\n`);
    const script = readFileSync(join(node.lib, 'control-plane.sh'), 'utf8');
    // After the already-done branch: every boot, not only the first.
    expect(script.indexOf('run_sibling service-account-issuer.sh')).toBeGreaterThan(script.indexOf('log "already part of the control plane"'));
    const worker = tmp.node(inputFor('production', 'worker'));
    expect(worker.file(join(worker.etc, 'env'))).not.toContain('SA_ISSUER');
  });
});
