import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey, createPrivateKey, sign, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { platform, type Rule } from './harness';

/*
 * Service-account keys and tokens as kube-apiserver makes them, and the checks AWS STS makes on
 * a token against the published discovery document and JWKS (service-account-issuer and key
 * rotation tests).
 */

export const issuer = platform.namesOf('production').serviceAccountIssuer;

/** `aws s3api put-object` into a directory: the object, and its Content-Type beside it. */
export function s3Store(dir: string): Rule {
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
export function keyPair(dir: string, name: string, algorithm: 'RSA' | 'EC' = 'RSA'): { privateKey: KeyObject; publicPem: string; publicFile: string } {
  const keyFile = join(dir, `${name}.key`);
  const publicFile = join(dir, `${name}.pub`);
  if (algorithm === 'RSA') openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyFile);
  else openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile);
  openssl('pkey', '-in', keyFile, '-pubout', '-out', publicFile);
  return { privateKey: createPrivateKey(readFileSync(keyFile)), publicPem: readFileSync(publicFile, 'utf8'), publicFile };
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');
/** kube-apiserver's key id: base64url(SHA-256(DER SubjectPublicKeyInfo)), computed here independently of the script. */
export const kidOf = (key: KeyObject) => b64url(createHash('sha256').update((key.type === 'public' ? key : createPublicKey(key)).export({ type: 'spki', format: 'der' })).digest());

interface Claims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  'kubernetes.io': Record<string, unknown>;
}

export const NOW = 1_780_000_000;
export function claims(overrides: Partial<Claims> = {}): Claims {
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
export function token(key: KeyObject, body: Claims, kid = kidOf(key)): string {
  const alg = key.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256';
  const input = `${b64url(JSON.stringify({ alg, kid }))}.${b64url(JSON.stringify(body))}`;
  const signature = alg === 'ES256' ? sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }) : sign('sha256', Buffer.from(input), key);
  return `${input}.${b64url(signature)}`;
}

export interface Published {
  discovery: Record<string, unknown>;
  jwks: { keys: (JsonWebKey & { kid: string; alg: string; use: string })[] };
}

/** What STS checks before AssumeRoleWithWebIdentity: returns the failure, or 'valid'. */
export function stsCheck(jwt: string, published: Published, provider: { url: string; clientIds: string[] }, now = NOW): string {
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

