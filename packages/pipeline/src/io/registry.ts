import { createHash } from 'node:crypto';

/*
 * A read-only OCI Distribution client: does a manifest exist, and what digest does a tag name.
 * A request answered 401 carries a challenge. `Bearer realm=…,service=…,scope=…` (Docker Hub,
 * ghcr.io, Artifact Registry): the client asks the realm for a token for that service and scope
 * (anonymously, or with the repository's credentials as Basic auth) and repeats the request with
 * it. `Basic realm=…` (private ECR): the repository's credentials go on the request itself.
 * Redirects are followed by hand (registry.k8s.io sends every /v2/ request to a regional Artifact
 * Registry host, which challenges for its own path), and credentials or a token only ever go to
 * the origin that asked for them. Every call has a timeout; a 5xx or 429 is retried once.
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

/* How the client signs in to a repository's registry; the catalog's strategies are in registry-auth.ts. */
export interface RegistryCredentials {
  readonly username: string;
  readonly password: string;
}

export interface RegistryAuth {
  /** For messages: never holds a secret. */
  readonly description: string;
  /** Whether credentials are presented (a denial then means no access, not "private"). */
  readonly credentialed: boolean;
  /** Basic credentials: for a Basic challenge, or presented to a Bearer challenge's token realm. Undefined: anonymous. */
  credentials(): Promise<RegistryCredentials | undefined>;
}

/** Public images: an anonymous token where a registry asks for one. */
export function anonymousPull(): RegistryAuth {
  return { description: 'anonymous pull', credentialed: false, credentials: async () => undefined };
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
  /** How the client authenticates to `repository`'s registry (the catalog's `registryAuth`). @default anonymous pull everywhere */
  readonly auth?: (repository: string) => RegistryAuth;
  /** Per HTTP call (registry or token realm). @default 30000 */
  readonly timeoutMs?: number;
  /** Longest Retry-After honoured before the one retry of a 5xx or 429; a longer one fails the call. @default 10 */
  readonly maxRetryAfterSeconds?: number;
  /** Wait before the retry when the answer names no Retry-After. @default 1000 */
  readonly retryDelayMs?: number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
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
  const challenge = parseChallenge(header);
  return challenge?.scheme === 'bearer' && challenge.params.realm ? challenge.params : undefined;
}

/** `<Scheme> k="v",…` → the scheme (lower case) and its parameters. */
export function parseChallenge(header: string | null): { readonly scheme: string; readonly params: Readonly<Record<string, string>> } | undefined {
  const scheme = /^([A-Za-z]+)(\s|$)/.exec(header ?? '')?.[1];
  if (!header || !scheme) return undefined;
  const params: Record<string, string> = {};
  for (const m of header.slice(scheme.length).matchAll(/([A-Za-z_]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) params[m[1]!.toLowerCase()] = m[2] ?? m[3] ?? '';
  return { scheme: scheme.toLowerCase(), params };
}


/** The repository name in a manifest URL's path (`/v2/<name>/manifests/<ref>`), as that host knows it. */
export function repositoryNameOfUrl(url: string): string | undefined {
  return /^\/v2\/(.+)\/manifests\/[^/]+$/.exec(new URL(url).pathname)?.[1];
}

export class OciRegistryClient implements ManifestResolver {
  private readonly endpoint: (host: string) => string;
  private readonly fetch: typeof fetch;
  private readonly maxRedirects: number;
  private readonly auth: (repository: string) => RegistryAuth;
  private readonly timeoutMs: number;
  private readonly maxRetryAfterSeconds: number;
  private readonly retryDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Authorization header values by origin + repository path: one token request per repository and host. */
  private readonly authorizations = new Map<string, string>();

  constructor(props: OciRegistryClientProps = {}) {
    this.endpoint = props.endpoint ?? defaultEndpoint;
    this.fetch = props.fetch ?? globalThis.fetch;
    this.maxRedirects = props.maxRedirects ?? 5;
    this.auth = props.auth ?? (() => anonymousPull());
    this.timeoutMs = props.timeoutMs ?? 30_000;
    this.maxRetryAfterSeconds = props.maxRetryAfterSeconds ?? 10;
    this.retryDelayMs = props.retryDelayMs ?? 1000;
    this.sleep = props.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async resolve(repository: string, reference: string): Promise<ManifestDescriptor | undefined> {
    const { host, name } = parseRepository(repository);
    const url = `${this.endpoint(host).replace(/\/$/, '')}/v2/${name}/manifests/${reference}`;
    const auth = this.auth(repository);
    const head = await this.request('HEAD', url, auth);
    if (head.status === 404) return undefined;
    const mediaType = (head.headers.get('content-type') ?? '').split(';')[0]!.trim();
    const digest = head.headers.get('docker-content-digest');
    // A HEAD without the digest header (the spec only says SHOULD): the digest is the body's hash.
    const resolved = digest ? { digest, mediaType } : await this.digestOfBody(url, auth);
    if (!(MANIFEST_MEDIA_TYPES as readonly string[]).includes(resolved.mediaType)) {
      throw new RegistryError(`${repository} ${reference}: the registry serves a ${resolved.mediaType || 'manifest without a media type'}; expected one of ${MANIFEST_MEDIA_TYPES.join(', ')}`);
    }
    return resolved;
  }

  private async digestOfBody(url: string, auth: RegistryAuth): Promise<ManifestDescriptor> {
    const get = await this.request('GET', url, auth);
    const body = Buffer.from(await get.arrayBuffer());
    return { digest: `sha256:${createHash('sha256').update(body).digest('hex')}`, mediaType: (get.headers.get('content-type') ?? '').split(';')[0]!.trim() };
  }

  /** One request to its final answer: redirects followed, one challenge per origin answered. Anything but 2xx/404 throws. */
  private async request(method: 'HEAD' | 'GET', start: string, auth: RegistryAuth): Promise<Response> {
    let url = start;
    const challenged = new Set<string>();
    for (let hops = 0; ; ) {
      const origin = new URL(url).origin;
      const key = `${origin}${new URL(url).pathname.replace(/\/manifests\/[^/]*$/, '')}`;
      const authorization = this.authorizations.get(key);
      const headers: Record<string, string> = { accept: MANIFEST_MEDIA_TYPES.join(', ') };
      if (authorization) headers.authorization = authorization;
      const res = await this.send(`${method} ${url}`, url, { method, headers, redirect: 'manual' });
      if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
        if (++hops > this.maxRedirects) throw new RegistryError(`${method} ${start}: more than ${this.maxRedirects} redirects`);
        url = new URL(res.headers.get('location')!, url).toString();
        continue;
      }
      if (res.status === 401 && !challenged.has(origin)) {
        challenged.add(origin);
        this.authorizations.set(key, await this.answer(method, url, res.headers.get('www-authenticate'), auth));
        continue;
      }
      if (res.status === 404 || (res.status >= 200 && res.status < 300)) return res;
      if (res.status === 401 || res.status === 403) {
        // Docker Hub and ghcr.io hand an anonymous token to anyone, then refuse the pull
        // (401 insufficient_scope) for a private repository and an unknown one alike: never a 404.
        const why = auth.credentialed ? `unknown repository, or ${auth.description} may not pull it` : 'unknown or private repository (anonymous pull denied)';
        throw new RegistryError(`${method} ${url}: ${why}; the registry answered ${res.status}${errorOf(res)}`);
      }
      throw new RegistryError(`${method} ${url}: the registry answered ${res.status}`);
    }
  }

  /** The Authorization header a 401's challenge asks for. */
  private async answer(method: string, url: string, header: string | null, auth: RegistryAuth): Promise<string> {
    const challenge = parseChallenge(header);
    if (challenge?.scheme === 'basic') {
      // Private ECR: the repository's own credentials on every request, no token exchange.
      const credentials = await auth.credentials();
      if (!credentials) throw new RegistryError(`${method} ${url}: the registry asks for Basic credentials (a private registry such as ECR); ${auth.description} has none: set the app's registryAuth in the catalog`);
      return `Basic ${basic(credentials)}`;
    }
    if (challenge?.scheme !== 'bearer' || !challenge.params.realm) throw new RegistryError(`${method} ${url}: 401 without a Bearer or Basic challenge (WWW-Authenticate: ${header ?? 'none'})`);
    // The scope the registry names wins; without one, the repository as this host names it (after a redirect its path differs).
    const name = repositoryNameOfUrl(url);
    const scope = challenge.params.scope ?? (name ? `repository:${name}:pull` : undefined);
    return `Bearer ${await this.token(challenge.params.realm, challenge.params.service, scope, await auth.credentials())}`;
  }

  private async token(realm: string, service: string | undefined, scope: string | undefined, credentials: RegistryCredentials | undefined): Promise<string> {
    const url = new URL(realm);
    if (service) url.searchParams.set('service', service);
    if (scope) url.searchParams.set('scope', scope);
    const headers: Record<string, string> = { accept: 'application/json' };
    // Only to the realm the registry named, over its own origin: the token exchange of the distribution auth spec.
    if (credentials) headers.authorization = `Basic ${basic(credentials)}`;
    const what = `token ${url.origin}${url.pathname} (${scope ?? 'no scope'})`;
    const res = await this.send(what, url.toString(), { headers });
    if (!res.ok) throw new RegistryError(`${what}: answered ${res.status}${credentials ? ' to the credentials presented' : ''}`);
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryError(`${what}: no token in the answer`);
    return token;
  }

  /** One HTTP call with a timeout; a 5xx or 429 is retried once, after its Retry-After when that is short. */
  private async send(what: string, url: string, init: RequestInit): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await this.fetch(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
      } catch (e) {
        if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) throw new RegistryError(`${what}: no answer within ${this.timeoutMs / 1000} s`);
        throw e;
      }
      if (attempt > 1 || !(res.status >= 500 || res.status === 429)) return res;
      const retryAfter = retryAfterSeconds(res.headers.get('retry-after'));
      if (retryAfter !== undefined && retryAfter > this.maxRetryAfterSeconds) {
        throw new RegistryError(`${what}: the registry answered ${res.status} and asks to retry after ${retryAfter} s; more than the ${this.maxRetryAfterSeconds} s this check waits`);
      }
      await res.body?.cancel();
      await this.sleep(retryAfter === undefined ? this.retryDelayMs : retryAfter * 1000);
    }
  }
}

const basic = (c: RegistryCredentials) => Buffer.from(`${c.username}:${c.password}`).toString('base64');

/** Retry-After as seconds (delta-seconds or an HTTP date), undefined when absent or unreadable. */
function retryAfterSeconds(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** The challenge's `error` (insufficient_scope, invalid_token) for the message, when the registry names one. */
function errorOf(res: Response): string {
  const error = parseChallenge(res.headers.get('www-authenticate'))?.params.error;
  return error ? ` (${error})` : '';
}
