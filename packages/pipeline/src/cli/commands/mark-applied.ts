import { appliedRecordMessage, appliedRecordOf, parseAppliedRecord, refAnnotation } from '../../apply/applied-record';
import { appliedRef, markApplied as moveAppliedRef, remoteRef } from '../../apply/applied-ref';
import { handRecord, stageRecordsAt } from '../../apply/hand-record';
import { headCommit } from '../../io/git';
import { exec } from '../../private/exec';
import { parseOptions } from '../arguments';
import { UsageError, type Command, type CommandIo } from '../command';

export interface MarkAppliedOptions {
  readonly sha?: string;
  readonly remote?: string;
  /**
   * `--record`: write the record of the commit the tag already names, from these `--stage
   * <cluster>=<stage>` values, without moving it (hand-record.ts). undefined: the usual move.
   */
  readonly record?: readonly string[];
}

/**
 * After a successful (or empty) apply: moves the applied tag on the remote to `--sha`,
 * the pushed commit, never backwards (see applied-ref.ts), annotated with that commit's
 * record (applied-record.ts: each cluster's identity stage) for the next apply's gates.
 * The record is this checkout's platform-config, so `--sha` must be the checkout's HEAD.
 * Needs a push token.
 *
 * `--record --stage <cluster>=<stage> ...` (by hand, docs/runbooks/deploy-refs.md): the tag names a
 * commit but carries no record, and that commit's platform-config no longer loads (the gate's
 * fallback fails): writes the record of the tag's commit from the stages given, leased, without moving it.
 */
export const markApplied: Command<MarkAppliedOptions> = {
  description: "move the applied tag to the pushed commit, never backwards, with that commit's record",
  parse(args) {
    const v = parseOptions(args, { sha: { type: 'string' }, remote: { type: 'string' }, record: { type: 'boolean' }, stage: { type: 'string', multiple: true } });
    if (v.record && v.sha) throw new UsageError('--record writes the record of the commit the applied tag names: give no --sha');
    if (!v.record && v.stage) throw new UsageError('--stage is only for --record');
    return { sha: v.sha || undefined, remote: v.remote, ...(v.record ? { record: v.stage ?? [] } : {}) };
  },
  async run(options, io) {
    if (options.record) return recordByHand(options.record, options.remote, io);
    const { platform, paths, actions, log } = io;
    const ref = appliedRef(platform);
    const head = headCommit(paths.repoRoot);
    // An unknown --sha is left to moveAppliedRef, which names it.
    const given = options.sha ?? head;
    const resolved = exec('git', ['rev-parse', '--verify', '--quiet', `${given}^{commit}`], { cwd: paths.repoRoot }).stdout.trim();
    const sha = resolved || given;
    if (resolved && resolved !== head) {
      throw new Error(`--sha ${sha}: the checkout is at ${head}; the applied record is read from the checked-out platform-config, so check out ${sha.slice(0, 12)} first (apply.yml's apply and manifests jobs check out the pushed commit)`);
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

/** `mark-applied --record`: the record of the commit the remote tag names, from the operator's stages. */
async function recordByHand(stages: readonly string[], remote: string | undefined, { platform, paths, actions, log }: CommandIo): Promise<number> {
  const ref = appliedRef(platform);
  const origin = remote ?? 'origin';
  const current = remoteRef(paths.repoRoot, origin, ref);
  if (!current) throw new Error(`${ref} does not exist on ${origin}: nothing to record (the next apply selects every stack and is not gated on stages)`);
  const existing = refAnnotation(paths.repoRoot, current.object);
  if (existing && parseAppliedRecord(existing, current.commit)) {
    throw new Error(`${ref} (${current.commit.slice(0, 12)}) already carries an applied record: --record only writes a missing one (the gate reads that record, never the fallback)`);
  }
  const records = stageRecordsAt(paths.repoRoot, current.commit);
  log(`mark-applied --record: ${current.commit.slice(0, 12)}'s platform-config ${records ? 'derives' : 'does not derive'} identityStageRecords (git grep): its nodes ${records ? 'record' : 'do not record'} their stage`);
  const record = handRecord(platform, stages, current.commit, records);
  const result = moveAppliedRef({ repo: paths.repoRoot, ref, sha: current.commit, remote: origin, annotation: appliedRecordMessage(record), log });
  const given = Object.entries(record.clusters).map(([name, c]) => `${name} ${c.serviceAccountIdentity}`).join(', ');
  const line =
    result.outcome === 'annotated'
      ? `\`${ref}\` (\`${current.commit.slice(0, 12)}\`) had no record; recorded by hand: ${given}; nodes record their stage: ${records ? 'yes' : 'no'}.`
      : `\`${ref}\` moved meanwhile (${result.outcome}): nothing recorded by hand; run the apply again.`;
  actions.summary(`### Applied commit\n\n${line}\n`);
  return result.outcome === 'annotated' ? 0 : 1;
}
