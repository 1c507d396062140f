import { afterEach, describe, expect, it } from 'vitest';
import { OciRegistryClient, parseBearerChallenge, parseRepository } from '../src/io/registry';
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
