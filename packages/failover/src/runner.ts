import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { ClusterDefinition, Platform } from '@platform/platform-config';
import { Commands, commandLine, shellWords } from './commands';
import { GitCli, type GitPort } from './git-port';
import { Journal } from './journal';
import type { FailoverOptions } from './options';
import { failbackSteps, fenceSteps, promotionSteps, resolvePair, workloadOf } from './plans';
import type { Facts, Step, StepContext } from './step';

export interface RunIo {
  readonly env?: NodeJS.ProcessEnv;
  readonly log: (line: string) => void;
  readonly sleep?: (seconds: number) => Promise<void>;
  readonly now?: () => number;
  readonly clock?: () => Date;
  /** @default a GitCli on options.repoRoot with `--git push`, none with `--git print` */
  readonly git?: GitPort;
}

export interface RunResult {
  readonly journal: Journal;
  readonly ok: boolean;
  readonly facts: Facts;
}

const defaultSleep = (seconds: number) => new Promise<void>((resolve) => setTimeout(resolve, seconds * 1000));
const defaultNow = () => performance.now() / 1000;

/**
 * Runs steps in order and stops at the first failure, naming the step, the completed steps,
 * the mutations made by the failed step (half-done) and the steps not started. Writes
 * journal.json and summary.md to the out dir whatever happens.
 */
export async function runSteps(steps: readonly Step[], base: Omit<StepContext, 'note'>, journal: Journal, log: (line: string) => void): Promise<boolean> {
  const ctx: StepContext = { ...base, note: (text) => (journal.note(text), log(`    ${text}`)) };
  for (const [i, step] of steps.entries()) {
    log(`[${i + 1}/${steps.length}] ${step.name}: ${step.verifies}`);
    journal.begin(step.name);
    const start = base.now();
    try {
      await step.run(ctx);
      journal.end('done', base.now() - start);
      log(`    done in ${(base.now() - start).toFixed(1)} s`);
    } catch (error) {
      const message = (error as Error).message;
      journal.end('failed', base.now() - start, message);
      const failed = journal.entries[i]!;
      log(`FAILED at step ${step.name}: ${message}`);
      log(`completed steps: ${journal.entries.filter((e) => e.status === 'done').map((e) => e.step).join(', ') || 'none'}`);
      log(`half-done in ${step.name}: ${failed.mutations.length === 0 ? 'nothing (no mutating call was made)' : failed.mutations.join(' ; ')}`);
      log(`not started: ${steps.slice(i + 1).map((s) => s.name).join(', ') || 'none'}`);
      const uncommitted = uncommittedNote(base);
      if (uncommitted) {
        failed.notes.push(uncommitted);
        log(uncommitted);
      }
      return false;
    }
  }
  return true;
}

/**
 * A run that stops after a record step (e.g. fail-back's archive name) but before deploy-refs
 * leaves the file written and uncommitted: say so, with the commit command, so the workflow's
 * diff and the operator see what Git must still learn.
 */
function uncommittedNote(base: Omit<StepContext, 'note'>): string | undefined {
  const paths = (base.facts.changedFiles ?? []).map((f) => relative(base.options.repoRoot, f));
  if (paths.length === 0 || base.facts.stateCommit) return undefined;
  return `written but not committed (the run stopped before deploy-refs): ${paths.join(', ')}; see git diff -- ${paths.join(' ')}; a re-run writes them again, or commit with: git add -- ${paths.join(' ')} && ${shellWords(['git', 'commit', '-m', `failover: state written by run ${base.options.runId}, which stopped`, '--', ...paths])}`;
}

export async function runFailover(platform: Platform, options: FailoverOptions, io: RunIo): Promise<RunResult> {
  const pair = resolvePair(platform, options);
  const workload = workloadOf(options, pair.primary);
  const steps = { promote: promotionSteps, fence: fenceSteps, failback: failbackSteps }[options.action](workload, pair, workloadOf(options, pair.standby), options);
  const title = {
    promote: `Promote ${pair.standby.name} (standby of ${pair.primary.name})${options.drill ? ' — DRILL' : ''}`,
    fence: `Fence ${pair.primary.name} while ${pair.standby.name} serves`,
    failback: `Fail back to ${pair.primary.name} from ${pair.standby.name}`,
  }[options.action];
  const journal = new Journal(title, steps, options.dryRun);
  mkdirSync(options.outDir, { recursive: true });
  const cli = new Commands({
    dryRun: options.dryRun,
    env: io.env,
    onCall: (call, executed) => {
      journal.recordCall(call);
      if (call.mutating) io.log(`    ${executed ? '$' : 'would run:'} ${commandLine(call)}`);
    },
  });
  const facts: Facts = {};
  io.log(`${title}${options.dryRun ? ' — DRY RUN' : ''} (run ${options.runId})`);
  const ok = await runSteps(
    steps,
    { platform, ...pair, options, cli, git: io.git ?? (options.git === 'push' ? new GitCli({ repo: options.repoRoot, remote: options.gitRemote, branch: options.gitBranch, env: io.env }) : undefined), facts, namesOf: (c) => platform.namesOf(c), sleep: io.sleep ?? defaultSleep, now: io.now ?? defaultNow, clock: io.clock ?? (() => new Date()) },
    journal,
    io.log,
  );
  if (options.action === 'promote') journal.checkBudgets(promotionBudgets(pair.primary));
  for (const w of journal.warnings) io.log(`WARNING: ${w}`);
  writeFileSync(join(options.outDir, 'journal.json'), journal.toJson());
  writeFileSync(join(options.outDir, 'summary.md'), journal.toMarkdown());
  io.log(`${ok ? 'finished' : 'stopped'} after ${journal.totalSeconds.toFixed(1)} s; journal: ${join(options.outDir, 'journal.json')}`);
  return { journal, ok, facts };
}

/** Seconds the runbook's promote-database estimate allows (replica switch, replay, one poll): ≤ 2 min. */
export const DATABASE_PROMOTION_BUDGET_SECONDS = 120;

/** What a promotion is held to: the database step's estimate, the whole run the primary's RTO objective (when declared). */
export function promotionBudgets(primary: ClusterDefinition): Parameters<Journal['checkBudgets']>[0] {
  const rto = primary.objectives.regionRtoSeconds;
  return {
    steps: [{ step: 'promote-database', seconds: DATABASE_PROMOTION_BUDGET_SECONDS, why: 'the runbook estimates the database promotion at ≤ 2 min' }],
    ...(rto !== undefined ? { total: { seconds: rto, why: `${primary.name}'s regional RTO objective, objectives.regionRtoSeconds` } } : {}),
  };
}
