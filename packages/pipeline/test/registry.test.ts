import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { anonymousPull, OciRegistryClient, parseBearerChallenge, parseRepository } from '../src/io/registry';
import { catalogRegistryAuth, ecrPull, githubTokenPull, REGISTRY_GITHUB_TOKEN_ENV } from '../src/io/registry-auth';
import { checkImageInRegistry } from '../src/operations/image-check';
import { indexManifest, startFakeRegistry, type FakeRegistry } from './support/fake-registry';

/**
 * The release flow's registry check against a registry that behaves as the OCI Distribution
 * spec and the public registries do (support/fake-registry.ts): a 401 challenge first, a token
 * per repository scope, HEAD with headers and no body, 404 for unknown digests, redirects.
 */

let open: FakeRegistry[] = [];
async function registry(...args: Parameters<typeof startFakeRegistry>): Promise<FakeRegistry> {
  const r = await startFakeRegistry(...args);
  open.push(r);
  return r;
}
afterEach(async () => {
  await Promise.all(open.map((r) => r.close()));
  open = [];
});

const REPO = 'ghcr.io/acme/web';
const client = (r: FakeRegistry) => new OciRegistryClient({ endpoint: () => r.url });

describe('OciRegistryClient', () => {
  it('answers the bearer challenge, then resolves a digest and a tag with HEAD only', async () => {
    const r = await registry();
    const digest = r.push('acme/web', indexManifest('1.0'), '1.0');
    const c = client(r);
    expect(await c.resolve(REPO, digest)).toEqual({ digest, mediaType: 'application/vnd.oci.image.index.v1+json' });
    expect(await c.resolve(REPO, '1.0')).toEqual({ digest, mediaType: 'application/vnd.oci.image.index.v1+json' });
    expect(r.requests.map((q) => `${q.method} ${q.path}${q.auth ? ' (token)' : ''}`)).toEqual([
      `HEAD /v2/acme/web/manifests/${digest}`,
      '/token?service=fake-registry&scope=repository%3Aacme%2Fweb%3Apull'.replace(/^/, 'GET '),
      `HEAD /v2/acme/web/manifests/${digest} (token)`,
      // The token is kept per host and repository: no second challenge.
      'HEAD /v2/acme/web/manifests/1.0 (token)',
    ]);
  });

  it('accepts each manifest kind an image is pushed as: OCI index and manifest, Docker v2 list and manifest', async () => {
    const r = await registry();
    for (const mediaType of ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json', 'application/vnd.docker.distribution.manifest.v2+json']) {
      const digest = r.push('acme/web', { schemaVersion: 2, mediaType, manifests: [] });
      expect(await client(r).resolve(REPO, digest), mediaType).toEqual({ digest, mediaType });
    }
  });

  it('reports an unknown digest, and an unknown repository, as not there (404)', async () => {
    const r = await registry();
    r.push('acme/web', indexManifest('1.0'));
    expect(await client(r).resolve(REPO, `sha256:${'ab'.repeat(32)}`)).toBeUndefined();
    expect(await client(r).resolve('ghcr.io/acme/nothing', `sha256:${'ab'.repeat(32)}`)).toBeUndefined();
  });

  it('hashes the body of a GET when the HEAD carries no Docker-Content-Digest', async () => {
    const r = await registry({ omitDigestHeader: true });
    const digest = r.push('acme/web', indexManifest('1.0'), '1.0');
    expect(await client(r).resolve(REPO, '1.0')).toEqual({ digest, mediaType: 'application/vnd.oci.image.index.v1+json' });
    expect(r.requests.at(-1)!.method).toBe('GET');
  });

  it('follows a front that redirects every /v2/ request (registry.k8s.io) and answers the new host\'s challenge for its own path', async () => {
    const backend = await registry({ service: 'artifactregistry' });
    const front = await registry({ redirectTo: { registry: backend, prefix: 'k8s-artifacts-prod/images' } });
    const digest = backend.push('k8s-artifacts-prod/images/e2e-test-images/agnhost', indexManifest('2.53'), '2.53');
    const c = new OciRegistryClient({ endpoint: (host) => (host === 'registry.k8s.io' ? front.url : 'http://127.0.0.1:9') });
    expect(await c.resolve('registry.k8s.io/e2e-test-images/agnhost', '2.53')).toMatchObject({ digest });
    expect(backend.requests.find((q) => q.path.startsWith('/token'))!.path).toContain(encodeURIComponent('repository:k8s-artifacts-prod/images/e2e-test-images/agnhost:pull'));
    // The backend's token never goes to the front.
    expect(front.requests.every((q) => q.auth === undefined)).toBe(true);
  });

  it('refuses a manifest kind the release cannot pin (a Docker schema 1 manifest is not even served to the Accept list)', async () => {
    const r = await registry();
    const digest = r.push('acme/web', { schemaVersion: 1, mediaType: 'application/vnd.docker.distribution.manifest.v1+prettyjws' });
    expect(await client(r).resolve(REPO, digest)).toBeUndefined();
  });

  it('asks Docker Hub at its API host, registry-1.docker.io, for official images under library/', async () => {
    const urls: string[] = [];
    const fetch = (async (url: string | URL) => {
      urls.push(String(url));
      return new Response(null, { status: 404 });
    }) as typeof globalThis.fetch;
    expect(await new OciRegistryClient({ fetch }).resolve('docker.io/nginx', '1.27')).toBeUndefined();
    expect(urls).toEqual(['https://registry-1.docker.io/v2/library/nginx/manifests/1.27']);
  });

  it('reads challenges and repositories as registries write them', () => {
    expect(parseBearerChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"')).toEqual({ realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull' });
    expect(parseBearerChallenge('Basic realm="x"')).toBeUndefined();
    expect(parseRepository('docker.io/nginx')).toEqual({ host: 'docker.io', name: 'library/nginx' });
    expect(parseRepository('docker.io/postgrest/postgrest')).toEqual({ host: 'docker.io', name: 'postgrest/postgrest' });
  });
});

describe('OciRegistryClient: private repositories and refusals', () => {
  const ECR = '123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/acme/web';

  it('signs in to a private ECR registry (Basic challenge) with AWS:<aws ecr get-login-password>, asked once', async () => {
    const r = await registry({ basic: { password: 'ecr-login-password' } });
    const digest = r.push('acme/web', indexManifest('1.0'), '1.0');
    const regions: string[] = [];
    const auth = ecrPull({ region: 'ap-northeast-2', loginPassword: async (region) => (regions.push(region), 'ecr-login-password') });
    const c = new OciRegistryClient({ endpoint: () => r.url, auth: () => auth });
    expect(await c.resolve(ECR, digest)).toMatchObject({ digest });
    expect(await c.resolve(ECR, '1.0')).toMatchObject({ digest });
    expect(regions).toEqual(['ap-northeast-2']);
    expect(r.requests.map((q) => q.auth?.split(' ')[0] ?? 'none')).toEqual(['none', 'Basic', 'Basic']);
    expect(Buffer.from(r.requests[1]!.auth!.slice(6), 'base64').toString()).toBe('AWS:ecr-login-password');
  });

  it('asks the aws CLI on PATH for the ECR password (the job\'s role from env), and names its failure without the password', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'fake-aws-'));
    // The CLI's contract: the password on stdout; without credentials exit 255 and a message on stderr.
    writeFileSync(
      join(bin, 'aws'),
      '#!/bin/sh\n[ "$*" = "ecr get-login-password --region ap-northeast-2" ] || { echo "unexpected: $*" >&2; exit 2; }\n[ -n "$AWS_ACCESS_KEY_ID" ] || { echo "Unable to locate credentials. You can configure credentials by running \\"aws configure\\"." >&2; exit 255; }\necho ecr-login-password\n',
      { mode: 0o755 },
    );
    vi.stubEnv('PATH', `${bin}:${process.env.PATH}`);
    try {
      const r = await registry({ basic: { password: 'ecr-login-password' } });
      const digest = r.push('acme/web', indexManifest('1.0'));
      const auth = catalogRegistryAuth({ apps: { web: { repository: ECR, registryAuth: 'ecr' } } } as never);
      vi.stubEnv('AWS_ACCESS_KEY_ID', '');
      await expect(new OciRegistryClient({ endpoint: () => r.url, auth }).resolve(ECR, digest)).rejects.toThrow(
        'aws ecr get-login-password --region ap-northeast-2: failed (Unable to locate credentials. You can configure credentials by running "aws configure".); expected the job\'s AWS role (registryAuth ecr) with ecr:GetAuthorizationToken and ecr:BatchGetImage',
      );
      // The same client once the role is there (a failure is not cached), asking the CLI once for both requests.
      vi.stubEnv('AWS_ACCESS_KEY_ID', 'ASIAEXAMPLE');
      const c = new OciRegistryClient({ endpoint: () => r.url, auth });
      expect(await c.resolve(ECR, digest)).toMatchObject({ digest });
      r.push('acme/web', indexManifest('1.0'), '1.0');
      vi.stubEnv('AWS_ACCESS_KEY_ID', '');
      expect(await c.resolve(ECR, '1.0')).toMatchObject({ digest });
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('refuses an anonymous pull from a Basic-challenge registry, saying how to fix it', async () => {
    const r = await registry({ basic: { password: 'ecr-login-password' } });
    const digest = r.push('acme/web', indexManifest('1.0'));
    await expect(new OciRegistryClient({ endpoint: () => r.url }).resolve(ECR, digest)).rejects.toThrow(
      `HEAD ${r.url}/v2/acme/web/manifests/${digest}: the registry asks for Basic credentials (a private registry such as ECR); anonymous pull has none: set the app's registryAuth in the catalog`,
    );
  });

  it('pulls a private ghcr.io package with the GitHub token from the environment, exchanged for a token at the realm', async () => {
    const r = await registry({ private: ['acme/web'], credentials: { username: 'github-actions', password: 'ghs_job_token' } });
    const digest = r.push('acme/web', indexManifest('1.0'));
    const env = { [REGISTRY_GITHUB_TOKEN_ENV]: 'ghs_job_token' };
    expect(await new OciRegistryClient({ endpoint: () => r.url, auth: () => githubTokenPull(env) }).resolve(REPO, digest)).toMatchObject({ digest });
    const token = r.requests.find((q) => q.path.startsWith('/token'))!;
    expect(Buffer.from(token.auth!.slice('Basic '.length), 'base64').toString()).toBe('github-actions:ghs_job_token');
    // The GitHub token goes to the realm only; the manifest request carries the registry's token.
    expect(r.requests.filter((q) => q.path.startsWith('/v2/')).map((q) => q.auth?.split(' ')[0] ?? 'none')).toEqual(['none', 'Bearer']);
  });

  it('reports a private repository pulled anonymously as unknown or private (401 insufficient_scope after the token), not as missing', async () => {
    const r = await registry({ private: ['acme/web'], credentials: { username: 'u', password: 'p' } });
    const digest = r.push('acme/web', indexManifest('1.0'));
    await expect(client(r).resolve(REPO, digest)).rejects.toThrow(`HEAD ${r.url}/v2/acme/web/manifests/${digest}: unknown or private repository (anonymous pull denied); the registry answered 401 (insufficient_scope)`);
    await expect(checkImageInRegistry(client(r), { app: 'web', repository: REPO, digest })).rejects.toThrow(`web: ${REPO}@${digest}: HEAD ${r.url}/v2/acme/web/manifests/${digest}: unknown or private repository (anonymous pull denied)`);
  });

  it('reports an unknown repository the way Docker Hub answers it anonymously (denied, never 404)', async () => {
    const r = await registry({ unknownAsDenied: true });
    await expect(client(r).resolve('ghcr.io/acme/typo', `sha256:${'ab'.repeat(32)}`)).rejects.toThrow('unknown or private repository (anonymous pull denied)');
  });

  it('says the credentials may not pull when signed in and still denied', async () => {
    const r = await registry({ private: ['acme/web'], credentials: { username: 'github-actions', password: 'right' } });
    const digest = r.push('acme/web', indexManifest('1.0'));
    const c = new OciRegistryClient({ endpoint: () => r.url, auth: () => githubTokenPull({ [REGISTRY_GITHUB_TOKEN_ENV]: 'wrong' }) });
    const error = await c.resolve(REPO, digest).catch((e: Error) => e);
    expect(String(error)).toMatch(/^Error: token http:\/\/127\.0\.0\.1:\d+\/token \(repository:acme\/web:pull\): answered 401 to the credentials presented$/);
    // Never the credentials themselves in a message (the workflow log shows it).
    expect(String(error)).not.toContain('wrong');
  });

  it('maps the catalog\'s registryAuth per repository, anonymous for anything else', () => {
    const apps = { web: { repository: ECR, registryAuth: 'ecr' }, api: { repository: REPO, registryAuth: 'github-token' } };
    const auth = catalogRegistryAuth({ apps } as never, {});
    expect(auth(ECR).description).toBe("ECR credentials for ap-northeast-2 (the job's AWS role)");
    expect(auth(REPO).description).toBe(`the GitHub token in ${REGISTRY_GITHUB_TOKEN_ENV}`);
    expect(auth('docker.io/nginx').description).toBe(anonymousPull().description);
  });

  it('asks a redirected host for a token scoped to the repository as that host names it when its challenge names no scope', async () => {
    const backend = await registry({ service: 'artifactregistry', omitChallengeScope: true });
    const front = await registry({ redirectTo: { registry: backend, prefix: 'k8s-artifacts-prod/images' } });
    const digest = backend.push('k8s-artifacts-prod/images/e2e-test-images/agnhost', indexManifest('2.53'), '2.53');
    const c = new OciRegistryClient({ endpoint: () => front.url });
    expect(await c.resolve('registry.k8s.io/e2e-test-images/agnhost', '2.53')).toMatchObject({ digest });
    const token = backend.requests.find((q) => q.path.startsWith('/token'))!;
    expect(decodeURIComponent(token.path)).toBe('/token?service=artifactregistry&scope=repository:k8s-artifacts-prod/images/e2e-test-images/agnhost:pull');
  });
});

describe('OciRegistryClient: timeouts and retries', () => {
  it('retries a 503 once and resolves', async () => {
    const r = await registry({ transient: [{ status: 503 }] });
    const digest = r.push('acme/web', indexManifest('1.0'));
    const waits: number[] = [];
    const c = new OciRegistryClient({ endpoint: () => r.url, sleep: async (ms) => void waits.push(ms) });
    expect(await c.resolve(REPO, digest)).toMatchObject({ digest });
    expect(waits).toEqual([1000]);
  });

  it('honours a short Retry-After on 429, and fails on a second 5xx', async () => {
    const r = await registry({ transient: [{ status: 429, retryAfter: '3' }] });
    const digest = r.push('acme/web', indexManifest('1.0'));
    const waits: number[] = [];
    expect(await new OciRegistryClient({ endpoint: () => r.url, sleep: async (ms) => void waits.push(ms) }).resolve(REPO, digest)).toMatchObject({ digest });
    expect(waits).toEqual([3000]);
    const down = await registry({ transient: [{ status: 502 }, { status: 503 }] });
    await expect(new OciRegistryClient({ endpoint: () => down.url, sleep: async () => undefined }).resolve(REPO, digest)).rejects.toThrow(`HEAD ${down.url}/v2/acme/web/manifests/${digest}: the registry answered 503`);
  });

  it('does not wait out a long Retry-After', async () => {
    const r = await registry({ transient: [{ status: 429, retryAfter: '120' }] });
    const digest = r.push('acme/web', indexManifest('1.0'));
    await expect(new OciRegistryClient({ endpoint: () => r.url, sleep: async () => expect.fail('must not wait') }).resolve(REPO, digest)).rejects.toThrow(
      `HEAD ${r.url}/v2/acme/web/manifests/${digest}: the registry answered 429 and asks to retry after 120 s; more than the 10 s this check waits`,
    );
  });

  it('gives up on a registry that does not answer within the timeout', async () => {
    const r = await registry({ delayMs: 400 });
    const digest = r.push('acme/web', indexManifest('1.0'));
    await expect(new OciRegistryClient({ endpoint: () => r.url, timeoutMs: 100 }).resolve(REPO, digest)).rejects.toThrow(`HEAD ${r.url}/v2/acme/web/manifests/${digest}: no answer within 0.1 s`);
  });

  it('uses a 30 s timeout per call by default', async () => {
    const timeout = vi.spyOn(AbortSignal, 'timeout');
    try {
      const fetch = (async () => new Response(null, { status: 404 })) as typeof globalThis.fetch;
      await new OciRegistryClient({ fetch }).resolve('docker.io/nginx', '1.27');
      expect(timeout.mock.calls).toEqual([[30_000]]);
    } finally {
      timeout.mockRestore();
    }
  });
});

describe('checkImageInRegistry', () => {
  it('passes a pushed digest whose tag resolves to it', async () => {
    const r = await registry();
    const digest = r.push('acme/web', indexManifest('1.0'), '1.0');
    expect(await checkImageInRegistry(client(r), { app: 'web', repository: REPO, digest, tag: '1.0' })).toBe(`web: ${REPO}@${digest} is in the registry (application/vnd.oci.image.index.v1+json), and :1.0 resolves to it`);
  });

  it('fails a digest the registry does not have, naming app, repository and digest', async () => {
    const r = await registry();
    r.push('acme/web', indexManifest('1.0'), '1.0');
    const missing = `sha256:${'ab'.repeat(32)}`;
    await expect(checkImageInRegistry(client(r), { app: 'web', repository: REPO, digest: missing })).rejects.toThrow(`web: ${REPO}@${missing} is not in the registry (manifest ${missing} unknown in ${REPO}); expected the digest of an image pushed there`);
  });

  it('fails a tag that resolves to another digest (moved, or the digest is another image\'s)', async () => {
    const r = await registry();
    const first = r.push('acme/web', indexManifest('1.0'), '1.0');
    const second = r.push('acme/web', indexManifest('1.0-rebuilt'), '1.0');
    await expect(checkImageInRegistry(client(r), { app: 'web', repository: REPO, digest: first, tag: '1.0' })).rejects.toThrow(`web: ${REPO}:1.0 resolves to ${second}; expected ${first}, the digest to deploy (the tag moved, or the digest is another image's)`);
  });
});
