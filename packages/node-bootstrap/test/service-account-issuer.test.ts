import { spawnSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { awsError, inputFor, requireTool, scratch, ssmStore, type FakeNode, type Rule } from './harness';
import { claims, issuer, keyPair, kidOf, NOW, s3Store, stsCheck, token, type Published } from './service-account-tokens';

/*
 * The real service-account-issuer.sh publishes from a freshly generated key; a token signed
 * the way kube-apiserver signs one is then checked against what it published with the checks
 * AWS STS makes for AssumeRoleWithWebIdentity through an IAM OIDC provider.
 */

const previousKeyParameter = '/hakube/production/service-account/previous-public-key';
const nextKeyParameter = '/hakube/production/service-account/next-private-key';
const rotationParameter = '/hakube/production/service-account/rotation';

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
    node.writeApiServerManifest();
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
    node.writeApiServerManifest();
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
    node.writeApiServerManifest();
    expect(publish(node).status).toBe(0);
    const first = readFileSync(join(s3, issuer.jwksKey));
    const second = setup();
    writeFileSync(join(second.node.kube, 'pki', 'sa.pub'), sa.publicPem);
    second.node.writeApiServerManifest();
    expect(publish(second.node).status).toBe(0);
    expect(readFileSync(join(second.s3, issuer.jwksKey)).equals(first)).toBe(true);
    expect(readFileSync(join(second.s3, issuer.discoveryKey)).equals(readFileSync(join(s3, issuer.discoveryKey)))).toBe(true);
    writeFileSync(join(node.kube, 'pki', 'sa.pub'), keyPair(dir, 'fresh').publicPem);
    node.writeApiServerManifest();
    expect(publish(node).status).toBe(0);
    expect(readFileSync(join(s3, issuer.jwksKey)).equals(first)).toBe(false);
  });

  it('publishes what the rotation state says is in use: announce sa.pub + the next key, sign the next key + the previous one, steady sa.pub alone', () => {
    if (!requireTool('openssl')) return;
    const { node, s3, dir } = setup();
    const current = keyPair(dir, 'current');
    const next = keyPair(dir, 'next');
    writeFileSync(join(node.kube, 'pki', 'sa.pub'), current.publicPem);
    node.writeApiServerManifest();
    const putParameter = (name: string, value: string, type = 'String') => spawnSync('bash', [join(node.fakeDir, 'bin', 'aws'), 'ssm', 'put-parameter', '--name', name, '--type', type, '--value', value, '--overwrite'], { env: { ...process.env, FAKE_DIR: node.fakeDir } });
    putParameter(nextKeyParameter, readFileSync(join(dir, 'next.key'), 'utf8'), 'SecureString');
    putParameter(rotationParameter, 'announce');
    expect(publish(node).status).toBe(0);
    const announce = read(s3);
    expect(announce.jwks.keys.map((k) => k.kid)).toEqual([kidOf(current.privateKey), kidOf(next.privateKey)]);
    expect(stsCheck(token(current.privateKey, claims()), announce, provider)).toBe('valid');
    expect(stsCheck(token(next.privateKey, claims()), announce, provider)).toBe('valid');
    putParameter(previousKeyParameter, current.publicPem);
    putParameter(rotationParameter, 'sign');
    expect(publish(node).status).toBe(0);
    const sign = read(s3);
    // The next key signs (first), the previous one is still listed: old and new tokens both pass.
    expect(sign.jwks.keys.map((k) => k.kid)).toEqual([kidOf(next.privateKey), kidOf(current.privateKey)]);
    expect(stsCheck(token(current.privateKey, claims()), sign, provider)).toBe('valid');
    // Steady again (retire deleted the state; this node's sa.pub is the new key): the old key leaves the JWKS.
    for (const name of [rotationParameter, previousKeyParameter, nextKeyParameter]) spawnSync('bash', [join(node.fakeDir, 'bin', 'aws'), 'ssm', 'delete-parameter', '--name', name], { env: { ...process.env, FAKE_DIR: node.fakeDir } });
    writeFileSync(join(node.kube, 'pki', 'sa.pub'), next.publicPem);
    node.writeApiServerManifest();
    expect(publish(node).status).toBe(0);
    const after = read(s3);
    expect(after.jwks.keys.map((k) => k.kid)).toEqual([kidOf(next.privateKey)]);
    expect(stsCheck(token(current.privateKey, claims()), after, provider)).toBe(`kid ${kidOf(current.privateKey)} not in the JWKS`);
  });

  it('publishes an EC P-256 key as ES256, and its tokens pass', () => {
    if (!requireTool('openssl')) return;
    const { node, s3, dir } = setup();
    const sa = keyPair(dir, 'sa', 'EC');
    writeFileSync(join(node.kube, 'pki', 'sa.pub'), sa.publicPem);
    node.writeApiServerManifest();
    expect(publish(node).status).toBe(0);
    const jwk = createPublicKey(sa.privateKey).export({ format: 'jwk' });
    expect(readFileSync(join(s3, issuer.jwksKey), 'utf8')).toBe(`{"keys":[{"use":"sig","kty":"EC","kid":"${kidOf(sa.privateKey)}","crv":"P-256","alg":"ES256","x":"${jwk.x}","y":"${jwk.y}"}]}`);
    const published = read(s3);
    expect(published.discovery.id_token_signing_alg_values_supported).toEqual(['ES256']);
    expect(stsCheck(token(sa.privateKey, claims()), published, provider)).toBe('valid');
  });

  it('publishes nothing when the rotation state cannot be read (a key might still be in use) or sa.pub is missing', () => {
    if (!requireTool('openssl')) return;
    const throttled = setup([awsError(`ssm get-parameter * --name ${rotationParameter} *`, 'ThrottlingException')]);
    writeFileSync(join(throttled.node.kube, 'pki', 'sa.pub'), keyPair(throttled.dir, 'sa').publicPem);
    throttled.node.writeApiServerManifest();
    const result = publish(throttled.node, { RETRY_SLEEP_SECONDS: '0' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`node-bootstrap-service-account-issuer [read-keys] FAILED: reading ${rotationParameter} failed: the key set cannot be known`);
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
    expect(env).toContain(`SSM_SA_NEXT_KEY='${nextKeyParameter}'\n`);
    expect(env).toContain(`SSM_SA_ROTATION='${rotationParameter}'\n`);
    const script = readFileSync(join(node.lib, 'control-plane.sh'), 'utf8');
    // After the already-done branch: every boot, not only the first.
    expect(script.indexOf('run_sibling service-account-issuer.sh ||')).toBeGreaterThan(script.indexOf('log "already part of the control plane"'));
    const worker = tmp.node(inputFor('production', 'worker'));
    expect(worker.file(join(worker.etc, 'env'))).not.toContain('SA_ISSUER');
  });
});
