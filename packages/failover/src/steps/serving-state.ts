import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { deployBranchOf, parseFailoverState, renderFailoverState, type ClusterDefinition } from '@platform/platform-config';
import { shellWords } from '../commands';
import { resumeCommand } from '../private/flux';
import { toSecond } from '../promotion-marker';
import { StepError, type Step, type StepContext } from '../step';

/** Remembers a file this run changed in the repository, for the commit. */
export function changed(ctx: StepContext, file: string): void {
  ctx.facts.changedFiles = [...new Set([...(ctx.facts.changedFiles ?? []), file])];
}

/**
 * Writes which cluster serves the pair into platform-config's committed `failover-state.json`
 * (`serving`, `since`, `runId`): the durable record in Git, next to the SSM marker the tools
 * read during an outage and the Flux suspension that holds the live state.
 */
export class RecordServingState implements Step {
  readonly name = 'record-serving-state';
  readonly verifies = "platform-config's failover-state.json names the cluster that now serves the pair, since when and by which run";

  constructor(private readonly serving: 'primary' | 'standby') {}

  async run(ctx: StepContext): Promise<void> {
    if (ctx.options.drill) return ctx.note(`--drill: ${ctx.primary.name} keeps serving; nothing recorded`);
    const file = ctx.options.stateFile;
    const state = parseFailoverState(JSON.parse(readFileSync(file, 'utf8')), file);
    const entry = { serving: ctx[this.serving].name, since: toSecond(ctx.clock()), runId: ctx.options.runId };
    const text = renderFailoverState({ ...state, [ctx.primary.name]: entry });
    if (ctx.cli.dryRun) return ctx.note(`dry run: would record ${ctx.primary.name} → ${JSON.stringify(entry)} in ${file}`);
    writeFileSync(file, text);
    changed(ctx, file);
    ctx.note(`${file}: ${ctx.primary.name} is served by ${entry.serving} since ${entry.since} (run ${entry.runId})`);
  }
}

export interface DeployRefsProps {
  /** The clusters whose manifests the recorded state concerns: their deploy refs move to the commit. */
  readonly clusters: (ctx: StepContext) => readonly ClusterDefinition[];
  readonly message: (ctx: StepContext) => string;
  /**
   * Whether Git now describes these clusters as they run, so Flux may be resumed once it has
   * the commit (fail-back). A promoted standby stays suspended: Git still renders it a replica.
   */
  readonly resumeFlux: boolean;
}

/**
 * Issue #16: Flux follows `deploy/<cluster>`, which only moves to commits whose manifests may
 * go live. After a promotion or fail-back the commit that records the new state is that
 * commit: this step commits the files the run changed, publishes the commit and moves each
 * affected cluster's deploy ref to it (forward only) through the injected GitPort; without one
 * (the default, and in a dry run) it prints the exact commands. Flux stays suspended on the
 * clusters the run changed until their source has fetched the commit: the resume command is
 * printed with the check that must come first.
 */
export class DeployRefs implements Step {
  readonly name = 'deploy-refs';
  readonly verifies = "the files recording the new state are committed and each affected cluster's deploy ref names that commit (or the exact commands are printed)";

  constructor(private readonly props: DeployRefsProps) {}

  async run(ctx: StepContext): Promise<void> {
    if (ctx.options.drill) return ctx.note('--drill: no deploy ref moves');
    const files = ctx.facts.changedFiles ?? [];
    const clusters = this.props.clusters(ctx);
    const message = this.props.message(ctx);
    const paths = files.map((f) => relative(ctx.options.repoRoot, f));
    const resume = (c: ClusterDefinition, sha: string) =>
      !this.props.resumeFlux
        ? `${c.name}: no — Flux ${ctx.options.fluxKustomization} stays suspended there until fail-back (Git still renders its database as a replica)`
        : `${c.name}: once \`kubectl --context ${c.name} -n flux-system get gitrepository flux-system -o jsonpath='{.status.artifact.revision}'\` names ${sha}: ${resumeCommand(c, ctx.options.fluxKustomization)}`;
    if (!ctx.git || ctx.cli.dryRun) {
      const why = ctx.cli.dryRun ? 'dry run' : 'no --git mode';
      if (paths.length > 0) ctx.note(`${why}: commit with: git add -- ${paths.join(' ')} && ${shellWords(['git', 'commit', '-m', message, '--', ...paths])}`);
      ctx.note(`then publish it: git push origin HEAD:main (or a pull request; the deploy ref needs a commit the pipeline's later moves descend from)`);
      for (const c of clusters) ctx.note(`then: npx tsx packages/pipeline/src/cli/main.ts deploy-refs --sha "$(git rev-parse HEAD)" --cluster ${c.name}   # moves ${deployBranchOf(c.name)}`);
      for (const c of clusters) ctx.note(`then resume Flux on ${resume(c, '<that commit>')}`);
      return;
    }
    if (paths.length === 0) throw new StepError('no file recording the new state was written; the record steps must run first');
    const sha = await ctx.git.commit(files, message);
    ctx.facts.stateCommit = sha;
    ctx.note(`committed ${paths.join(', ')} as ${sha}`);
    await ctx.git.publish(sha);
    ctx.note(`published ${sha.slice(0, 12)}`);
    for (const c of clusters) {
      const outcome = await ctx.git.moveDeployRef(c.name, sha);
      ctx.note(`${deployBranchOf(c.name)}: ${{ moved: `moved to ${sha.slice(0, 12)}`, unchanged: 'already there', kept: 'kept on a later commit that includes it' }[outcome]}`);
    }
    for (const c of clusters) ctx.note(`resume Flux on ${resume(c, sha)}`);
  }
}
