import { createHash } from 'node:crypto';

/*
 * A read-only OCI Distribution client: does a manifest exist, and what digest does a tag name.
 * Anonymous pull as public registries allow it: a request answered 401 carries a
 * `WWW-Authenticate: Bearer realm=…,service=…,scope=…` challenge; the client asks the realm for a
 * token for that service and scope and repeats the request with it. Redirects are followed by
 * hand (registry.k8s.io sends every /v2/ request to a regional Artifact Registry host, which
 * challenges for its own path), and a token is only ever sent to the origin that asked for it.
 */

/** Every manifest kind a multi-platform or single-platform image is pushed as (OCI and Docker v2). */
export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
] as const;

/** A manifest as the registry serves it. */
export interface ManifestDescriptor {
  readonly digest: string;
  readonly mediaType: string;
}

/** What the release flow needs from a registry. */
export interface ManifestResolver {
  /** The manifest `reference` (a tag or a digest) names in `repository`, or undefined when the registry does not know it (404). */
  resolve(repository: string, reference: string): Promise<ManifestDescriptor | undefined>;
}

/** The registry answered something the client cannot use (not a 404: that is "unknown"). */
export class RegistryError extends Error {}

export interface OciRegistryClientProps {
  /**
   * Base URL of a registry host's API.
   * @default `https://<host>`, Docker Hub's `docker.io` as `https://registry-1.docker.io`
   */
  readonly endpoint?: (host: string) => string;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** @default 5 */
  readonly maxRedirects?: number;
}

/** `host/name` split as registries address it; Docker Hub's official images live under `library/`. */
export function parseRepository(repository: string): { readonly host: string; readonly name: string } {
  const [host, ...path] = repository.split('/');
  if (!host || path.length === 0) throw new RegistryError(`repository ${JSON.stringify(repository)}: expected <registry host>/<name>`);
  const name = host === 'docker.io' && path.length === 1 ? `library/${path[0]}` : path.join('/');
  return { host, name };
}

const defaultEndpoint = (host: string) => `https://${host === 'docker.io' ? 'registry-1.docker.io' : host}`;

/** `Bearer realm="…",service="…",scope="…"` → its parameters (quoted values may hold commas). */
export function parseBearerChallenge(header: string | null): Readonly<Record<string, string>> | undefined {
  if (!header || !/^bearer\s/i.test(header)) return undefined;
  const params: Record<string, string> = {};
  for (const m of header.slice(header.indexOf(' ') + 1).matchAll(/([A-Za-z_]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) params[m[1]!.toLowerCase()] = m[2] ?? m[3] ?? '';
  return params.realm ? params : undefined;
}

export class OciRegistryClient implements ManifestResolver {
  private readonly endpoint: (host: string) => string;
  private readonly fetch: typeof fetch;
  private readonly maxRedirects: number;
  /** Tokens by origin + repository path: one token request per repository and host. */
  private readonly tokens = new Map<string, string>();

  constructor(props: OciRegistryClientProps = {}) {
    this.endpoint = props.endpoint ?? defaultEndpoint;
    this.fetch = props.fetch ?? globalThis.fetch;
    this.maxRedirects = props.maxRedirects ?? 5;
  }

  async resolve(repository: string, reference: string): Promise<ManifestDescriptor | undefined> {
    const { host, name } = parseRepository(repository);
    const url = `${this.endpoint(host).replace(/\/$/, '')}/v2/${name}/manifests/${reference}`;
    const head = await this.request('HEAD', url, name);
    if (head.status === 404) return undefined;
    const mediaType = (head.headers.get('content-type') ?? '').split(';')[0]!.trim();
    const digest = head.headers.get('docker-content-digest');
    // A HEAD without the digest header (the spec only says SHOULD): the digest is the body's hash.
    const resolved = digest ? { digest, mediaType } : await this.digestOfBody(url, name);
    if (!(MANIFEST_MEDIA_TYPES as readonly string[]).includes(resolved.mediaType)) {
      throw new RegistryError(`${repository} ${reference}: the registry serves a ${resolved.mediaType || 'manifest without a media type'}; expected one of ${MANIFEST_MEDIA_TYPES.join(', ')}`);
    }
    return resolved;
  }

  private async digestOfBody(url: string, name: string): Promise<ManifestDescriptor> {
    const get = await this.request('GET', url, name);
    const body = Buffer.from(await get.arrayBuffer());
    return { digest: `sha256:${createHash('sha256').update(body).digest('hex')}`, mediaType: (get.headers.get('content-type') ?? '').split(';')[0]!.trim() };
  }

  /** One request to its final answer: redirects followed, one bearer challenge per origin answered. Anything but 2xx/404 throws. */
  private async request(method: 'HEAD' | 'GET', start: string, name: string): Promise<Response> {
    let url = start;
    const challenged = new Set<string>();
    for (let hops = 0; ; ) {
      const origin = new URL(url).origin;
      const key = `${origin}${new URL(url).pathname.replace(/\/manifests\/[^/]*$/, '')}`;
      const token = this.tokens.get(key);
      const headers: Record<string, string> = { accept: MANIFEST_MEDIA_TYPES.join(', ') };
      if (token) headers.authorization = `Bearer ${token}`;
      const res = await this.fetch(url, { method, headers, redirect: 'manual' });
      if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
        if (++hops > this.maxRedirects) throw new RegistryError(`${method} ${start}: more than ${this.maxRedirects} redirects`);
        url = new URL(res.headers.get('location')!, url).toString();
        continue;
      }
      if (res.status === 401 && !challenged.has(origin)) {
        const challenge = parseBearerChallenge(res.headers.get('www-authenticate'));
        if (!challenge) throw new RegistryError(`${method} ${url}: 401 without a Bearer challenge (WWW-Authenticate: ${res.headers.get('www-authenticate') ?? 'none'})`);
        challenged.add(origin);
        // The scope the registry names wins: after a redirect the repository's path on that host differs.
        const scope = challenge.scope ?? `repository:${name}:pull`;
        this.tokens.set(key, await this.token(challenge.realm!, challenge.service, scope));
        continue;
      }
      if (res.status === 404 || (res.status >= 200 && res.status < 300)) return res;
      throw new RegistryError(`${method} ${url}: the registry answered ${res.status}${res.status === 401 ? ' after a token was presented' : ''}`);
    }
  }

  private async token(realm: string, service: string | undefined, scope: string): Promise<string> {
    const url = new URL(realm);
    if (service) url.searchParams.set('service', service);
    url.searchParams.set('scope', scope);
    const res = await this.fetch(url, { headers: { accept: 'application/json' } });
    if (!res.ok) throw new RegistryError(`token ${url.origin}${url.pathname} (${scope}): answered ${res.status}`);
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryError(`token ${url.origin}${url.pathname} (${scope}): no token in the answer`);
    return token;
  }
}
