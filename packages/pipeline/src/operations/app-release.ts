import { deployedApp, digestProblem, type AppCatalog, type CatalogApp, type ClusterDefinition } from '@platform/platform-config';

/*
 * The release flow's decisions, on catalog data only (no git, no GitHub): what a dispatch may
 * release, what a promotion takes from staging, and the digest diff a pull request shows.
 */

/** A dispatch's three fields, as given (repository_dispatch client_payload or workflow_dispatch inputs). */
export interface ReleaseRequest {
  readonly app: string | undefined;
  readonly image: string | undefined;
  readonly digest: string | undefined;
}

/** A checked request: the app, its digest, and the tag the image named, if any (recorded in history). */
export interface CheckedRelease {
  readonly app: string;
  readonly digest: string;
  readonly tag: string | undefined;
}

/** Thrown for a dispatch the flow refuses, before anything is written. */
export class ReleaseInputError extends Error {}

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** The catalog's entry of the dispatch's `app`; a ReleaseInputError naming the catalog's apps when there is none. */
export function catalogApp(catalog: AppCatalog, name: string | undefined): AppCatalog['apps'][string] {
  const apps = Object.keys(catalog.apps).sort();
  if (!name) throw new ReleaseInputError(`app: got nothing; expected one of the catalog's apps: ${apps.join(', ')}`);
  const app = catalog.apps[name];
  if (!app) throw new ReleaseInputError(`app: got ${JSON.stringify(name)}; expected one of the catalog's apps: ${apps.join(', ')}`);
  return app;
}

/**
 * The dispatch checked against the catalog: a catalogued app, a digest (never a tag), and an
 * image of exactly the repository the catalog records for that app (`repo`, `repo:tag`, or
 * `repo@digest` with the same digest), so an application repository cannot point a cluster
 * at another registry's image.
 */
export function checkReleaseRequest(catalog: AppCatalog, request: ReleaseRequest): CheckedRelease {
  const { image, digest } = request;
  // '' is "got nothing" too.
  const name = request.app ?? '';
  const app = catalogApp(catalog, name);
  if (!digest) throw new ReleaseInputError('digest: got nothing; expected the digest the registry reports for the pushed image (sha256: and 64 lowercase hexadecimal digits)');
  const problem = digestProblem(digest);
  if (problem) throw new ReleaseInputError(`digest: got ${JSON.stringify(digest)}; ${problem}`);
  const expected = `expected ${app.repository}, the repository the catalog records for ${name}, optionally followed by :<tag> or @${digest}`;
  if (!image) throw new ReleaseInputError(`image: got nothing; ${expected}`);
  let tag: string | undefined;
  if (image === app.repository || image === `${app.repository}@${digest}`) tag = undefined;
  else if (image.startsWith(`${app.repository}:`) && TAG.test(image.slice(app.repository.length + 1).split('@')[0]!)) {
    const [t, pinned] = image.slice(app.repository.length + 1).split('@');
    if (pinned !== undefined && pinned !== digest) throw new ReleaseInputError(`image: got ${JSON.stringify(image)}; expected the digest it names to be the digest input (${digest})`);
    tag = t;
  } else if (image.startsWith(`${app.repository}@`)) throw new ReleaseInputError(`image: got ${JSON.stringify(image)}; expected the digest it names to be the digest input (${digest})`);
  else throw new ReleaseInputError(`image: got ${JSON.stringify(image)}; ${expected}`);
  return { app: name, digest, tag };
}

function withApp(catalog: AppCatalog, name: string, change: (app: CatalogApp) => CatalogApp): AppCatalog {
  return { apps: { ...catalog.apps, [name]: change(catalog.apps[name]!) } };
}

/** Staging runs `digest`; the digest joins the history (once) so it can be promoted or rolled back to later. */
export function releaseToStaging(catalog: AppCatalog, release: CheckedRelease): AppCatalog {
  return withApp(catalog, release.app, (app) => ({
    ...app,
    digests: { ...app.digests, staging: release.digest },
    history: app.history.some((r) => r.digest === release.digest) ? app.history : [...app.history, { digest: release.digest, ...(release.tag ? { tag: release.tag } : {}) }],
  }));
}

export interface Promotion {
  readonly catalog: AppCatalog;
  readonly digest: string;
  /** The digest is an earlier release, not what staging runs: a rollback. */
  readonly rollback: boolean;
}

const describeRelease = (r: AppCatalog['apps'][string]['history'][number]) => `${r.digest}${r.tag ? ` (${r.tag})` : ''}`;

/**
 * Production (and with it its standby) runs what staging runs now, read from the catalog, never
 * from the caller; or, for a rollback, `digest`, which must be an earlier release in the history.
 */
export function promoteToProduction(catalog: AppCatalog, name: string, digest?: string): Promotion {
  const apps = Object.keys(catalog.apps).sort();
  const app = catalog.apps[name];
  if (!app) throw new ReleaseInputError(`app: got ${JSON.stringify(name)}; expected one of the catalog's apps: ${apps.join(', ')}`);
  const staging = app.digests.staging;
  if (digest === undefined && !staging) throw new ReleaseInputError(`app: got ${JSON.stringify(name)}; expected an app staging runs (its catalog entry has no staging digest to promote)`);
  const chosen = digest ?? staging!;
  if (digest !== undefined && !app.history.some((r) => r.digest === digest)) {
    const known = app.history.map(describeRelease).join(', ');
    throw new ReleaseInputError(`digest: got ${JSON.stringify(digest)}; expected a digest of ${name}'s history, released to staging before: ${known}`);
  }
  // A revoked release never reaches production again, neither promoted from staging nor rolled back to.
  if (app.history.some((r) => r.digest === chosen && r.revoked)) {
    const usable = app.history.filter((r) => !r.revoked && r.digest !== chosen).map(describeRelease).join(', ') || 'none';
    throw new ReleaseInputError(`digest: got ${JSON.stringify(chosen)}${digest === undefined ? ' (what staging runs)' : ''}; expected a digest ${name}.history does not mark revoked: ${usable}`);
  }
  return { catalog: withApp(catalog, name, (a) => ({ ...a, digests: { ...a.digests, production: chosen } })), digest: chosen, rollback: chosen !== staging };
}

/** One cluster whose image of one app changes. */
export interface DigestChange {
  readonly cluster: string;
  readonly app: string;
  readonly repository: string;
  readonly from: string | undefined;
  readonly to: string;
}

/** The clusters whose image a catalog change moves, app by app, in cluster order. */
export function digestChanges(clusters: readonly ClusterDefinition[], before: AppCatalog, after: AppCatalog): DigestChange[] {
  return Object.keys(after.apps)
    .sort()
    .flatMap((app) =>
      clusters.flatMap((cluster) => {
        const next = deployedApp(after, clusters, cluster, app);
        const previous = before.apps[app] ? deployedApp(before, clusters, cluster, app) : undefined;
        return next && next.digest !== previous?.digest ? [{ cluster: cluster.name, app, repository: next.repository, from: previous?.digest, to: next.digest }] : [];
      }),
    );
}

/**
 * The image manifest in its registry (the OCI distribution API's manifest URL, which every
 * registry serves); Docker Hub's API host is registry-1.docker.io.
 */
export function manifestUrl(repository: string, digest: string): string {
  const [host, ...path] = repository.split('/');
  return `https://${host === 'docker.io' ? 'registry-1.docker.io' : host}/v2/${path.join('/')}/manifests/${digest}`;
}

const short = (digest: string) => `${digest.slice(0, 'sha256:'.length + 12)}…`;

/** The pull request body: one row per cluster whose image moves, old → new, each digest linked to its manifest. */
export function digestDiffMarkdown(title: string, changes: readonly DigestChange[], notes: readonly string[] = []): string {
  const link = (repository: string, digest: string | undefined) => (digest ? `[\`${short(digest)}\`](${manifestUrl(repository, digest)})` : '—');
  const rows = changes.map((c) => `| ${c.cluster} | ${c.app} | ${link(c.repository, c.from)} → ${link(c.repository, c.to)} |`);
  return [
    `### ${title}`,
    '',
    changes.length === 0 ? 'No cluster changes image.' : ['| cluster | app | image digest (old → new) |', '| --- | --- | --- |', ...rows].join('\n'),
    '',
    ...changes.map((c) => `- ${c.cluster}/${c.app}: \`${c.from ?? 'none'}\` → \`${c.to}\``),
    ...(notes.length > 0 ? ['', ...notes] : []),
    '',
  ].join('\n');
}
