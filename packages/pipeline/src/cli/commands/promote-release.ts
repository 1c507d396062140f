import { digestChanges, digestDiffMarkdown, promoteToProduction } from '../../operations/app-release';
import { OciRegistryClient } from '../../io/registry';
import { catalogRegistryAuth } from '../../io/registry-auth';
import { checkoutBase, readCatalog } from '../../operations/catalog-pull-request';
import { checkImageInRegistry } from '../../operations/image-check';
import { parseOptions } from '../arguments';
import { UsageError, type Command } from '../command';
import { publishCatalogChange, releaseBranch, usage, type ReleaseDeps } from './release';

export interface PromoteReleaseOptions {
  readonly app: string;
  /** Rollback: an earlier release from the app's history instead of what staging runs. */
  readonly digest: string | undefined;
  readonly remote: string;
}

/**
 * `promote-release --app [--digest]`: the production promotion pull request, from exactly what
 * staging runs on the base branch now (no digest is taken from the caller), or, for a rollback,
 * from `--digest`, which must be an earlier release in the catalog's history. The standby
 * follows production's digest, so it moves in the same pull request. Never auto-merged.
 */
export function promoteReleaseCommand(deps: ReleaseDeps = {}): Command<PromoteReleaseOptions> {
  return {
    description: "open the production promotion pull request from what staging runs (or, --digest, roll back to an earlier release)",
    parse(args) {
      const v = parseOptions(args, { app: { type: 'string' }, digest: { type: 'string' }, remote: { type: 'string' } });
      if (!v.app) throw new UsageError('--app <name> (an app of the catalog) is required');
      return { app: v.app, digest: v.digest || undefined, remote: v.remote ?? 'origin' };
    },
    async run(options, io) {
      const { platform, paths, actions, log } = io;
      const base = platform.settings.github.mainBranch;
      // An unknown app is refused before any git operation.
      const planned = usage(() => promoteToProduction(readCatalog(paths.repoRoot), options.app, options.digest));
      const branch = releaseBranch(options.app, planned.rollback ? 'rollback' : 'production');
      const before = checkoutBase(paths.repoRoot, options.remote, base, branch);
      const promotion = usage(() => promoteToProduction(before, options.app, options.digest));
      const changes = digestChanges(platform.clusters, before, promotion.catalog);
      if (changes.length === 0) {
        log(`${options.app}: production already runs ${promotion.digest}; no pull request`);
        actions.output('changed', 'false');
        return 0;
      }
      // Re-checked: an image deleted from the registry since staging got it (or a rollback to a pruned one) never reaches production.
      log(await checkImageInRegistry(deps.registry ?? new OciRegistryClient({ ...deps.registryClient, auth: catalogRegistryAuth(before) }), { app: options.app, repository: before.apps[options.app]!.repository, digest: promotion.digest }));
      const release = before.apps[options.app]!.history.find((r) => r.digest === promotion.digest);
      const what = release?.tag ?? promotion.digest.slice(0, 19);
      const title = promotion.rollback ? `roll back ${options.app} to ${what} in production` : `promote ${options.app} ${what} to production`;
      const body = digestDiffMarkdown(promotion.rollback ? `Roll back ${options.app} in production` : `Promote ${options.app} to production`, changes, [
        promotion.rollback
          ? `Rollback: \`${promotion.digest}\` is an earlier release from the catalog's history, not what staging runs (\`${before.apps[options.app]!.digests.staging ?? 'none'}\`).`
          : `The digest staging runs on \`${base}\` now; the standby follows production's digest.`,
        'Never auto-merged: production changes only with a reviewer\'s approval and every required check.',
      ]);
      return publishCatalogChange(io, deps, { remote: options.remote, branch, catalog: promotion.catalog, title, body, autoMerge: false });
    },
  };
}
