import { join } from 'node:path';
import { headCommit } from '../../io/git';
import { planStack } from '../../io/terraform';
import { reconcileDriftIssue } from '../../io/upsert';
import { driftReport } from '../../operations/drift';
import { parseOptions } from '../arguments';
import { UsageError, type Command } from '../command';

export interface DriftOptions {
  readonly stack: string;
  readonly issue: boolean;
}

/** `plan -detailed-exitcode` of one stack; opens, updates or closes its drift issue. Exit 1 on drift. */
export const drift: Command<DriftOptions> = {
  description: 'read-only plan of one stack; its drift issue opened, updated or closed',
  parse(args) {
    const v = parseOptions(args, { stack: { type: 'string' }, 'no-issue': { type: 'boolean' } });
    if (!v.stack) throw new UsageError('--stack <name> is required');
    return { stack: v.stack, issue: !v['no-issue'] };
  },
  async run(options, { paths, actions, log }) {
    // The drift role is read-only: no state lock.
    const plan = planStack({ stack: options.stack, stackDir: join(paths.stacksDir, options.stack), mode: 'cloud', lock: 'skip-read-only' });
    const report = driftReport({ stack: options.stack, plan, checkedBy: actions.runUrl, commit: headCommit(paths.repoRoot) });
    actions.summary(report.summary);
    if (options.issue) log(`drift issue: ${(await reconcileDriftIssue(actions.github(), options.stack, { drifted: report.drifted, body: report.issueBody })).action}`);
    return report.drifted ? 1 : 0;
  },
};
