import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An OCI Distribution registry on 127.0.0.1, as public registries behave for anonymous pulls:
 * - every /v2/ request without a token for its repository is answered 401 with
 *   `WWW-Authenticate: Bearer realm="<url>/token",service="<service>",scope="repository:<name>:pull"`;
 *   the realm hands out a token for exactly that scope (and refuses another service);
 * - manifests are content-addressed: a pushed manifest's digest is the SHA-256 of its bytes, a tag
 *   points at one digest and can be moved;
 * - `HEAD /v2/<name>/manifests/<ref>` answers the headers a GET would (Content-Type, Content-Length,
 *   Docker-Content-Digest) and no body; an unknown name or reference is 404 (`NAME_UNKNOWN`,
 *   `MANIFEST_UNKNOWN` in the GET's JSON body), a manifest whose media type the Accept header does
 *   not list is 404 too (distribution's answer when it cannot convert);
 * - `redirectTo` makes it a front like registry.k8s.io: every /v2/ request is 307-redirected to
 *   another registry under a path prefix, which challenges for its own repository name
 *   (`omitChallengeScope`: the challenge names no scope, as Artifact Registry's may not);
 * - `private` repositories, as Docker Hub and ghcr.io treat them: the realm hands an anonymous
 *   caller a token all the same, but one granting nothing, and the pull is then answered 401
 *   `error="insufficient_scope"`; Basic `credentials` at the realm get a token for the scope
 *   (wrong ones: 401 at the realm). `unknownAsDenied`: an unknown repository is answered the
 *   same way instead of 404, which is what those registries do for an anonymous caller;
 * - `basic` makes it private ECR: every /v2/ request without `Authorization: Basic AWS:<password>`
 *   is answered 401 `WWW-Authenticate: Basic realm=…,service="ecr.amazonaws.com"`, no token realm;
 * - `transient`: the next /v2/ requests are answered with these statuses first (503, 429 with a
 *   Retry-After); `delayMs` holds every answer back (a registry that hangs).
 */
export interface FakeRegistry {
  readonly url: string;
  readonly requests: { method: string; path: string; auth: string | undefined }[];
  /** Stores `manifest` (its JSON bytes) in `name`, tags it when `tag` is given; returns its digest. */
  push(name: string, manifest: object, tag?: string): string;
  /** Deletes a manifest (and the tags on it), as a registry's retention policy or an admin would. */
  remove(name: string, digest: string): void;
  close(): Promise<void>;
}

export interface FakeRegistryOptions {
  readonly service?: string;
  /** Leave Docker-Content-Digest out (the spec's SHOULD): the client must hash the body. */
  readonly omitDigestHeader?: boolean;
  readonly redirectTo?: { readonly registry: FakeRegistry; readonly prefix: string };
  readonly omitChallengeScope?: boolean;
  /** Repository names only `credentials` may pull. */
  readonly private?: readonly string[];
  readonly credentials?: { readonly username: string; readonly password: string };
  readonly unknownAsDenied?: boolean;
  /** ECR: a Basic challenge, and this password for the user AWS. */
  readonly basic?: { readonly password: string };
  readonly transient?: { readonly status: number; readonly retryAfter?: string }[];
  readonly delayMs?: number;
}

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/** The digest a registry gives `manifest` when pushed (SHA-256 of the bytes push stores). */
export const manifestDigest = (manifest: object) => `sha256:${createHash('sha256').update(JSON.stringify(manifest)).digest('hex')}`;

/** A small multi-platform index, distinct per `label`. */
export const indexManifest = (label: string) => ({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [], annotations: { 'org.opencontainers.image.version': label } });

export async function startFakeRegistry(options: FakeRegistryOptions = {}): Promise<FakeRegistry> {
  const service = options.service ?? 'fake-registry';
  const manifests = new Map<string, Map<string, { body: Buffer; mediaType: string }>>();
  const tags = new Map<string, Map<string, string>>();
  const tokens = new Map<string, string>();
  const requests: FakeRegistry['requests'] = [];
  let url = '';

  const transient = [...(options.transient ?? [])];
  const basicOf = (auth: string | undefined) => (auth?.startsWith('Basic ') ? Buffer.from(auth.slice('Basic '.length), 'base64').toString() : undefined);
  const server: Server = createServer((req, res) => {
    if (options.delayMs) {
      setTimeout(() => handle(req, res), options.delayMs);
      return;
    }
    handle(req, res);
  });
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', url);
    const auth = req.headers.authorization;
    requests.push({ method: req.method ?? '', path: `${u.pathname}${u.search}`, auth });
    const json = (status: number, body: object, headers: Record<string, string> = {}) => {
      const text = Buffer.from(JSON.stringify(body));
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(text.length), ...headers });
      res.end(req.method === 'HEAD' ? undefined : text);
    };
    if (u.pathname === '/token') {
      const scope = u.searchParams.get('scope') ?? '';
      if (u.searchParams.get('service') !== service) return json(400, { errors: [{ code: 'DENIED', message: 'unknown service' }] });
      const presented = basicOf(auth);
      const { username, password } = options.credentials ?? {};
      const signedIn = presented !== undefined && options.credentials !== undefined && presented === `${username}:${password}`;
      if (presented !== undefined && !signedIn) return json(401, { errors: [{ code: 'UNAUTHORIZED', message: 'incorrect username or password' }] });
      const name = /^repository:(.+):pull$/.exec(scope)?.[1];
      const hidden = name !== undefined && (options.private?.includes(name) || (options.unknownAsDenied && !manifests.has(name)));
      const token = randomBytes(12).toString('hex');
      // An anonymous caller still gets a token; for a private (or, unknownAsDenied, unknown) repository it grants nothing.
      tokens.set(token, hidden && !signedIn ? '' : scope);
      return json(200, { token, expires_in: 300 });
    }
    if (!u.pathname.startsWith('/v2/')) return json(404, { errors: [{ code: 'NOT_FOUND' }] });
    const failure = transient.shift();
    if (failure) return json(failure.status, { errors: [{ code: 'UNAVAILABLE' }] }, failure.retryAfter ? { 'retry-after': failure.retryAfter } : {});
    if (options.redirectTo) {
      const target = `${options.redirectTo.registry.url}/v2/${options.redirectTo.prefix}/${u.pathname.slice('/v2/'.length)}`;
      res.writeHead(307, { location: target, 'content-length': '0' });
      return res.end();
    }
    const m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(u.pathname);
    const name = m?.[1];
    const scope = name ? `repository:${name}:pull` : undefined;
    if (options.basic) {
      if (basicOf(auth) !== `AWS:${options.basic.password}`) {
        return json(401, { errors: [{ code: 'DENIED', message: 'Not Authorized' }] }, { 'www-authenticate': `Basic realm="${url}/",service="ecr.amazonaws.com"` });
      }
    } else {
      const granted = auth?.startsWith('Bearer ') ? tokens.get(auth.slice('Bearer '.length)) : undefined;
      if (granted === undefined || (scope !== undefined && granted !== scope)) {
        const challenge = `Bearer realm="${url}/token",service="${service}"${scope && !options.omitChallengeScope ? `,scope="${scope}"` : ''}${granted !== undefined ? ',error="insufficient_scope"' : ''}`;
        return json(401, { errors: [{ code: granted !== undefined ? 'DENIED' : 'UNAUTHORIZED', message: 'authentication required' }] }, { 'www-authenticate': challenge });
      }
    }
    if (!m) return json(200, {});
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { errors: [{ code: 'UNSUPPORTED' }] });
    const store = manifests.get(name!);
    if (!store) return json(404, { errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }] });
    const ref = m[2]!;
    const digest = ref.startsWith('sha256:') ? ref : tags.get(name!)?.get(ref);
    const found = digest ? store.get(digest) : undefined;
    const accepted = (req.headers.accept ?? '').split(',').map((t) => t.split(';')[0]!.trim());
    if (!found || !accepted.includes(found.mediaType)) return json(404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] });
    res.writeHead(200, { 'content-type': found.mediaType, 'content-length': String(found.body.length), ...(options.omitDigestHeader ? {} : { 'docker-content-digest': digest! }) });
    res.end(req.method === 'HEAD' ? undefined : found.body);
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    requests,
    push(name, manifest, tag) {
      const body = Buffer.from(JSON.stringify(manifest));
      const digest = manifestDigest(manifest);
      const mediaType = (manifest as { mediaType?: string }).mediaType ?? OCI_INDEX;
      if (!manifests.has(name)) manifests.set(name, new Map());
      manifests.get(name)!.set(digest, { body, mediaType });
      if (tag !== undefined) {
        if (!tags.has(name)) tags.set(name, new Map());
        tags.get(name)!.set(tag, digest);
      }
      return digest;
    },
    remove(name, digest) {
      manifests.get(name)?.delete(digest);
      for (const [tag, d] of tags.get(name) ?? []) if (d === digest) tags.get(name)!.delete(tag);
    },
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
