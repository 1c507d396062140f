import { appliedRef, markApplied as moveAppliedRef } from '../../apply/applied-ref';
import { headCommit } from '../../io/git';
import { parseOptions } from '../arguments';
import type { Command } from '../command';

export interface MarkAppliedOptions {
  readonly sha?: string;
  readonly remote?: string;
}

/**
 * After a successful (or empty) apply: moves the applied tag on the remote to `--sha`,
 * the pushed commit, never backwards (see applied-ref.ts). Needs a push token.
 */
export const markApplied: Command<MarkAppliedOptions> = {
  description: 'move the applied tag to the pushed commit, never backwards',
  parse(args) {
    const v = parseOptions(args, { sha: { type: 'string' }, remote: { type: 'string' } });
    return { sha: v.sha || undefined, remote: v.remote };
  },
  async run(options, { platform, paths, actions, log }) {
    const ref = appliedRef(platform);
    const sha = options.sha ?? headCommit(paths.repoRoot);
    // After a force-push of main the tag is off the new history; that run selected every stack (applyBase), so it may follow.
    const result = moveAppliedRef({ repo: paths.repoRoot, ref, sha, remote: options.remote, unrelated: 'replace', log });
    const was = result.previous ? `\`${result.previous.slice(0, 12)}\`` : 'nothing';
    const line = {
      moved: `\`${ref}\` moved from ${was} to \`${sha.slice(0, 12)}\`.`,
      unchanged: `\`${ref}\` already names \`${sha.slice(0, 12)}\`.`,
      kept: `\`${ref}\` left at ${was}, a later applied commit that includes \`${sha.slice(0, 12)}\`.`,
    }[result.outcome];
    actions.summary(`### Applied commit\n\n${line}\n`);
    return 0;
  },
};
