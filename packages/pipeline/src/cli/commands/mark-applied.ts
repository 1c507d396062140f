import { appliedRecordMessage, appliedRecordOf } from '../../apply/applied-record';
import { appliedRef, markApplied as moveAppliedRef } from '../../apply/applied-ref';
import { headCommit } from '../../io/git';
import { exec } from '../../private/exec';
import { parseOptions } from '../arguments';
import type { Command } from '../command';

export interface MarkAppliedOptions {
  readonly sha?: string;
  readonly remote?: string;
}

/**
 * After a successful (or empty) apply: moves the applied tag on the remote to `--sha`,
 * the pushed commit, never backwards (see applied-ref.ts), annotated with that commit's
 * record (applied-record.ts: each cluster's identity stage) for the next apply's gates.
 * The record is this checkout's platform-config, so `--sha` must be the checkout's HEAD.
 * Needs a push token.
 */
export const markApplied: Command<MarkAppliedOptions> = {
  description: "move the applied tag to the pushed commit, never backwards, with that commit's record",
  parse(args) {
    const v = parseOptions(args, { sha: { type: 'string' }, remote: { type: 'string' } });
    return { sha: v.sha || undefined, remote: v.remote };
  },
  async run(options, { platform, paths, actions, log }) {
    const ref = appliedRef(platform);
    const head = headCommit(paths.repoRoot);
    // An unknown --sha is left to moveAppliedRef, which names it.
    const given = options.sha ?? head;
    const resolved = exec('git', ['rev-parse', '--verify', '--quiet', `${given}^{commit}`], { cwd: paths.repoRoot }).stdout.trim();
    const sha = resolved || given;
    if (resolved && resolved !== head) {
      throw new Error(`--sha ${sha}: the checkout is at ${head}; the applied record is read from the checked-out platform-config, so check out ${sha.slice(0, 12)} first (apply.yml's manifests job checks out the pushed commit)`);
    }
    // After a force-push of main the tag is off the new history; that run selected every stack (applyBase), so it may follow.
    const annotation = appliedRecordMessage(appliedRecordOf(platform, sha));
    const result = moveAppliedRef({ repo: paths.repoRoot, ref, sha, remote: options.remote, unrelated: 'replace', annotation, log });
    const was = result.previous ? `\`${result.previous.slice(0, 12)}\`` : 'nothing';
    const stages = platform.clusters.map((c) => `${c.name} ${c.serviceAccountIdentity.stage}`).join(', ');
    const line = {
      moved: `\`${ref}\` moved from ${was} to \`${sha.slice(0, 12)}\`, recording its identity stages (${stages}).`,
      unchanged: `\`${ref}\` already names \`${sha.slice(0, 12)}\` with its record.`,
      annotated: `\`${ref}\` already named \`${sha.slice(0, 12)}\` without a record (written before records existed); its identity stages are recorded now (${stages}).`,
      kept: `\`${ref}\` left at ${was}, a later applied commit that includes \`${sha.slice(0, 12)}\`.`,
    }[result.outcome];
    actions.summary(`### Applied commit\n\n${line}\n`);
    return 0;
  },
};
