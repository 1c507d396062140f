import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { identityStagesAtCommit, type IdentityStages } from '../../io/base-identity-stages';
import { committedIdentityAt, IDENTITY_STAGES_FILE, identityStagesFileText, workTreeIdentityStagesFile } from '../../io/committed-identity-stages';
import { mergeBaseOf } from '../../io/git';
import { judgeIdentityStages } from '../../pull-request/identity-stages';
import { parseOptions } from '../arguments';
import type { Command } from '../command';

export interface IdentityStagesOptions {
  readonly base: string;
  /** `--write`: regenerate the committed stages file from platform-config, judge nothing. */
  readonly write: boolean;
}

/**
 * `identity-stages`: exit 1 when the pull request moves a cluster's serviceAccountIdentity more than
 * one stage from the base branch, or when its committed stages file is not what its platform-config
 * generates. The base's stages come from the base's committed file (data, committed-identity-stages.ts);
 * a base older than that file falls back to loading the base's platform-config (fails closed).
 */
export const identityStages: Command<IdentityStagesOptions> = {
  description: 'refuses a pull request that moves a cluster’s serviceAccountIdentity (IRSA migration) more than one stage from the base branch; --write regenerates identity-stages.json',
  parse(args) {
    const v = parseOptions(args, { base: { type: 'string' }, write: { type: 'boolean' } });
    return { base: v.base ?? 'origin/main', write: v.write ?? false };
  },
  async run({ base, write }, { platform, paths, actions, log }) {
    const expected = identityStagesFileText(platform);
    if (write) {
      writeFileSync(join(paths.repoRoot, IDENTITY_STAGES_FILE), expected);
      log(`identity-stages: wrote ${IDENTITY_STAGES_FILE}`);
      return 0;
    }
    const problems: string[] = [];
    // The next pull request reads this commit's file as its base: it must say what this commit declares.
    if (workTreeIdentityStagesFile(paths.repoRoot) !== expected) {
      problems.push(`${IDENTITY_STAGES_FILE} is not what platform-config generates (a stage or a cluster changed without it): run \`npm run pipeline:identity-stages -- --write\` and commit the file`);
    }
    const mergeBase = mergeBaseOf(paths.repoRoot, base);
    const before = await baseStages(paths.repoRoot, mergeBase, log);
    const verdict = judgeIdentityStages(
      before,
      platform.clusters.map((c) => ({ name: c.name, stage: c.serviceAccountIdentity.stage })),
    );
    problems.push(...verdict.problems);
    for (const note of verdict.notes) log(`identity-stages: ${note}`);
    // A stage move is worth a reviewer's eye: an annotation on the pull request's checks and the run summary.
    const moves = verdict.notes.filter((n) => n.includes(' moves from '));
    for (const move of moves) console.log(`::notice::identity-stages: ${move}`);
    if (moves.length > 0) actions.summary(`### IRSA migration stage\n\n${moves.map((m) => `- ${m}`).join('\n')}\n`);
    for (const problem of problems) console.log(`::error::identity-stages: ${problem}`);
    if (problems.length === 0) log(`identity-stages: every cluster at most one stage from ${base} (${mergeBase.slice(0, 12)})`);
    return problems.length === 0 ? 0 : 1;
  },
};

/** The base's committed file; a base from before the file existed: its platform-config, loaded (the old way, fails closed). */
async function baseStages(repoRoot: string, commit: string, log: (line: string) => void): Promise<IdentityStages> {
  const committed = committedIdentityAt(repoRoot, commit);
  if (committed) {
    log(`identity-stages: the base's stages as its ${IDENTITY_STAGES_FILE} (${commit.slice(0, 12)}) records them`);
    return committed.stages;
  }
  log(`identity-stages: the base (${commit.slice(0, 12)}) has no ${IDENTITY_STAGES_FILE} (older than it): falling back to loading that commit's platform-config`);
  return identityStagesAtCommit(repoRoot, commit);
}
