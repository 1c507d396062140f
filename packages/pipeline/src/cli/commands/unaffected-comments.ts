import { headCommit } from '../../io/git';
import { markNonManifestOnlyComments, markUnaffectedComments } from '../../io/upsert';
import { clusterNames, nameList, parseOptions } from '../arguments';
import { UsageError, type Command } from '../command';

export interface UnaffectedCommentsOptions {
  readonly stacks: readonly string[];
  /** Undefined: cluster comments are left alone (an older workflow that does not pass them). */
  readonly clusters?: readonly string[];
  readonly sha?: string;
}

/**
 * Edits the plan comments of stacks not in `--stacks` (the affected set of this push) to
 * say they are no longer affected as of the pull request's head commit.
 */
export const unaffectedComments: Command<UnaffectedCommentsOptions> = {
  description: 'mark the comments of stacks (and manifest-only clusters) no longer affected',
  parse(args) {
    const v = parseOptions(args, { stacks: { type: 'string' }, clusters: { type: 'string' }, sha: { type: 'string' } });
    if (v.stacks === undefined) throw new UsageError('--stacks <JSON array of the affected stacks> is required');
    return { stacks: nameList('--stacks', v.stacks), clusters: v.clusters === undefined ? undefined : nameList('--clusters', v.clusters), sha: v.sha || undefined };
  },
  async run(options, { platform, paths, actions, log }) {
    const clusters = options.clusters === undefined ? undefined : clusterNames(platform, '--clusters', options.clusters);
    const event = actions.pullRequest();
    const sha = options.sha ?? event?.headSha ?? headCommit(paths.repoRoot);
    if (!event?.number) throw new UsageError('no pull request in GITHUB_EVENT_PATH; commenting only works on pull_request events');
    const client = actions.github();
    const marked = await markUnaffectedComments(client, event.number, options.stacks, sha);
    for (const m of marked) log(`${m.stack}: no longer affected; comment #${m.id} ${m.action}`);
    const clustersMarked = clusters === undefined ? [] : await markNonManifestOnlyComments(client, event.number, clusters, sha);
    for (const m of clustersMarked) log(`cluster ${m.cluster}: no longer a manifest-only change; comment #${m.id} ${m.action}`);
    actions.summary(
      (marked.length === 0
        ? '### Plan comments\n\nNo plan comment of an unaffected stack.\n'
        : `### Plan comments\n\nMarked as no longer affected as of \`${sha.slice(0, 12)}\`: ${marked.map((m) => `\`${m.stack}\``).join(', ')}.\n`) +
        (clustersMarked.length === 0 ? '' : `\nCluster comments marked as no longer manifest-only as of \`${sha.slice(0, 12)}\`: ${clustersMarked.map((m) => `\`${m.cluster}\``).join(', ')}.\n`),
    );
    return 0;
  },
};
