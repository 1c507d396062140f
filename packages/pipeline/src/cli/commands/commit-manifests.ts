import { BOT_AUTHOR, commitManifests as commitAndPush } from '../../apply/manifest-commit';
import { headCommit } from '../../io/git';
import { CLUSTERS_DIR } from '../../io/paths';
import { synthManifests } from '../../io/synth';
import { parseOptions } from '../arguments';
import type { Command } from '../command';

export interface CommitManifestsOptions {
  readonly remote?: string;
  readonly branch?: string;
}

/** Synthesize manifests and push changes under clusters/ as a bot commit. */
export const commitManifests: Command<CommitManifestsOptions> = {
  description: 'synthesize clusters/ and push a bot commit when it changed',
  parse(args) {
    const v = parseOptions(args, { remote: { type: 'string' }, branch: { type: 'string' } });
    return { remote: v.remote, branch: v.branch };
  },
  async run(options, { paths, actions, log }) {
    const sha = headCommit(paths.repoRoot);
    const result = await commitAndPush({
      repo: paths.repoRoot,
      paths: [CLUSTERS_DIR],
      synth: () => synthManifests(paths.repoRoot),
      remote: options.remote,
      branch: options.branch,
      message: `chore(clusters): synthesize manifests for ${sha.slice(0, 12)}`,
      author: BOT_AUTHOR,
      log,
    });
    actions.summary(`### Manifests\n\n${result.outcome === 'pushed' ? `Pushed \`${result.commit}\` after ${result.attempts} attempt(s).` : 'No change under clusters/.'}\n`);
    return 0;
  },
};
