import { readFileSync } from 'node:fs';
import { synthStacksAtCommit } from '../../io/base-synth';
import { synthInfraAndManifests } from '../../io/synth';
import type { TerraformMode } from '../../io/terraform';
import { postPullRequestComments } from '../../pull-request/post-comments';
import { haCheckFailures } from '../../pull-request/pr-gate';
import { runPullRequestFlow, type PullRequestFlowOptions } from '../../pull-request/pr-flow';
import { clusterNames, parseOptions, terraformMode } from '../arguments';
import { UsageError, type Command } from '../command';

export interface PrOptions {
  readonly base: string;
  readonly mode: TerraformMode;
  readonly stacks?: readonly string[];
  readonly clusters?: readonly string[];
  readonly synth: boolean;
  readonly post: boolean;
  /** Synthesize the merge base too, for the synthesized-change and cost sections. */
  readonly baseSynth: boolean;
}

export interface PrDeps {
  /** @default the ha-check CLI on the synthesized output */
  readonly haCheck?: PullRequestFlowOptions['haCheck'];
}

/** The whole pull-request flow; `--post` upserts the comments (CI), else they are appended to the job summary. */
export const prCommand = (deps: PrDeps = {}): Command<PrOptions> => ({
  description: 'plan the affected stacks, ha-check, manifest diff; one comment per stack or manifest-only cluster',
  parse(args) {
    const v = parseOptions(args, { base: { type: 'string' }, mode: { type: 'string' }, stack: { type: 'string', multiple: true }, cluster: { type: 'string', multiple: true }, 'no-synth': { type: 'boolean' }, 'no-base-synth': { type: 'boolean' }, post: { type: 'boolean' } });
    if (!v.base) throw new UsageError('--base <ref> is required, e.g. --base origin/main');
    return { base: v.base, mode: terraformMode(v.mode), stacks: v.stack, clusters: v.cluster, synth: !v['no-synth'], post: v.post ?? false, baseSynth: !v['no-base-synth'] };
  },
  async run(options, { platform, paths, actions, log }) {
    const onlyClusters = options.clusters === undefined ? undefined : clusterNames(platform, '--cluster', options.clusters);
    const started = Date.now();
    if (options.synth) synthInfraAndManifests(paths.repoRoot, log);
    // The mirror is checked when a stack is planned: a manifest-only change needs none.
    const cleanups: (() => void)[] = [];
    const baseStacks = options.baseSynth
      ? (mergeBase: string) => {
          const base = synthStacksAtCommit(paths.repoRoot, mergeBase, log);
          cleanups.push(base.cleanup);
          return base.stacksDir;
        }
      : undefined;
    let result: ReturnType<typeof runPullRequestFlow>;
    try {
      result = runPullRequestFlow({ paths, platform, base: options.base, mode: options.mode, mirror: actions.providerMirror, onlyStacks: options.stacks, onlyClusters, runUrl: actions.runUrl, baseStacks, haCheck: deps.haCheck, log });
    } finally {
      for (const cleanup of cleanups) cleanup();
    }
    actions.summary(readFileSync(result.summaryFile, 'utf8'));
    if (options.post) {
      const issue = actions.pullRequest()?.number;
      if (!issue) throw new UsageError('no pull request in GITHUB_EVENT_PATH; commenting only works on pull_request events');
      await postPullRequestComments({ client: actions.github(), issue, commentsDir: paths.commentsDir, stacks: result.stacks.map((s) => s.stack.stack), clusters: result.clusters.map((c) => c.cluster.cluster), log });
    } else {
      // Not posting (a fork's job has no token that may comment): the comments go to the job summary instead.
      for (const outcome of [...result.stacks, ...result.clusters]) actions.summary(readFileSync(outcome.commentFile, 'utf8'));
    }
    // Exit 0 even so: the comment is posted first; the workflow's next step fails the job (pr-gate reads it).
    const failed = haCheckFailures([
      ...result.stacks.flatMap((s) => (s.stack.cluster === undefined ? [] : [{ cluster: s.stack.cluster, exitCode: s.haCheck?.exitCode }])),
      ...result.clusters.map((c) => ({ cluster: c.cluster.cluster, exitCode: c.haCheck?.exitCode })),
    ]);
    actions.output('ha_check', failed.length === 0 ? 'passed' : 'failed');
    actions.output('ha_check_failed', failed.join(','));
    log(`pull-request flow done in ${((Date.now() - started) / 1000).toFixed(1)} s; comments in ${paths.commentsDir}`);
    return 0;
  },
});

export const pr = prCommand();
