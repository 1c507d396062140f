import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApplyStacksResult } from '../../apply/apply';
import { readApprovedPlans } from '../../apply/approved-plan';
import { postMergeComment, renderMergeComment, type ApplyOutcome, type ParityOfStack } from '../../apply/merge-report';
import type { PullRequest } from '../../io/github';
import { parseOptions } from '../arguments';
import { UsageError, type Command } from '../command';
import { APPLY_RESULT_FILE } from './apply-approved';
import { MERGE_PARITY_FILE, MERGE_PULLS_FILE } from './plan-approved';

const OUTCOMES: readonly ApplyOutcome[] = ['success', 'failure', 'cancelled', 'skipped'];

export interface ReportApplyOptions {
  /** The plan job's artifact, with the apply job's result beside it when it ran. */
  readonly dir: string;
  readonly sha: string;
  readonly outcome: ApplyOutcome;
}

/** After the apply job (whatever its end): rewrites the merge comment on every included pull request. */
export const reportApply: Command<ReportApplyOptions> = {
  description: 'rewrite the merge comment with the apply result on every pull request the merge included',
  parse(args) {
    const v = parseOptions(args, { dir: { type: 'string' }, sha: { type: 'string' }, outcome: { type: 'string' } });
    if (!v.dir || !v.sha) throw new UsageError('--dir <plans> and --sha <commit> are required');
    if (!OUTCOMES.includes(v.outcome as ApplyOutcome)) throw new UsageError(`--outcome ${v.outcome}: expected one of ${OUTCOMES.join(', ')} (needs.<apply job>.result)`);
    return { dir: v.dir, sha: v.sha, outcome: v.outcome as ApplyOutcome };
  },
  async run(options, { actions, log }) {
    const plans = readApprovedPlans(options.dir);
    const resultFile = join(options.dir, APPLY_RESULT_FILE);
    const applied = existsSync(resultFile) ? (JSON.parse(readFileSync(resultFile, 'utf8')) as ApplyStacksResult).results : undefined;
    const parityFile = join(options.dir, MERGE_PARITY_FILE);
    const parity = existsSync(parityFile) ? (JSON.parse(readFileSync(parityFile, 'utf8')) as Record<string, ParityOfStack>) : {};
    const body = renderMergeComment({ plans, applied, outcome: options.outcome, parity, runUrl: actions.runUrl });
    actions.summary(body);
    const client = actions.github();
    const pullsFile = join(options.dir, MERGE_PULLS_FILE);
    const pulls = existsSync(pullsFile) ? (JSON.parse(readFileSync(pullsFile, 'utf8')) as PullRequest[]) : [];
    for (const r of await postMergeComment(client, pulls, options.sha, body)) log(`#${r.pull}: merge comment ${r.action}`);
    return 0;
  },
};
