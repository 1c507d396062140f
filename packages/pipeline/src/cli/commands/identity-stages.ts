import { identityStagesAtCommit } from '../../io/base-identity-stages';
import { mergeBaseOf } from '../../io/git';
import { judgeIdentityStages } from '../../pull-request/identity-stages';
import { parseOptions } from '../arguments';
import type { Command } from '../command';

export interface IdentityStagesOptions {
  readonly base: string;
}

/** `identity-stages`: exit 1 when the pull request moves a cluster's serviceAccountIdentity more than one stage from the base branch. */
export const identityStages: Command<IdentityStagesOptions> = {
  description: 'refuses a pull request that moves a cluster’s serviceAccountIdentity (IRSA migration) more than one stage from the base branch',
  parse(args) {
    const v = parseOptions(args, { base: { type: 'string' } });
    return { base: v.base ?? 'origin/main' };
  },
  async run({ base }, { platform, paths, actions, log }) {
    const mergeBase = mergeBaseOf(paths.repoRoot, base);
    const before = await identityStagesAtCommit(paths.repoRoot, mergeBase);
    const verdict = judgeIdentityStages(
      before,
      platform.clusters.map((c) => ({ name: c.name, stage: c.serviceAccountIdentity.stage })),
    );
    for (const note of verdict.notes) log(`identity-stages: ${note}`);
    // A stage move is worth a reviewer's eye: an annotation on the pull request's checks and the run summary.
    const moves = verdict.notes.filter((n) => n.includes(' moves from '));
    for (const move of moves) console.log(`::notice::identity-stages: ${move}`);
    if (moves.length > 0) actions.summary(`### IRSA migration stage\n\n${moves.map((m) => `- ${m}`).join('\n')}\n`);
    for (const problem of verdict.problems) console.log(`::error::identity-stages: ${problem}`);
    if (verdict.problems.length === 0) log(`identity-stages: every cluster at most one stage from ${base} (${mergeBase.slice(0, 12)})`);
    return verdict.problems.length === 0 ? 0 : 1;
  },
};
