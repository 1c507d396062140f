import type { Platform } from '@platform/platform-config';
import { exec } from '../private/exec';

/*
 * What the apply gates need to know about the applied commit, written as data when the applied
 * tag moves (mark-applied) into the tag's own annotation: the gates then compare today's
 * declaration with that data instead of importing the applied commit's platform-config with
 * today's node_modules (which breaks whenever a dependency changed between the two commits).
 * The tag and its data move in one push with one lease, so they can never disagree.
 */

/** The first line of the annotation: marks a tag that carries a record (a hand-made or older tag has none). */
export const APPLIED_RECORD_HEADER = 'applied-record v1';

export interface AppliedClusterRecord {
  /** `serviceAccountIdentity.stage` as the applied commit declares it. */
  readonly serviceAccountIdentity: string;
}

export interface AppliedRecord {
  /** The commit the record describes: the one the tag names (a record copied onto another commit is refused). */
  readonly commit: string;
  /** Every cluster of the applied commit's platform, by name. */
  readonly clusters: Readonly<Record<string, AppliedClusterRecord>>;
  /** Whether the applied commit's control-plane nodes record their identity stage in SSM (bootstrapNames().identityStageRecords). */
  readonly identityStageRecords: boolean;
}

/** The record of `commit` from the platform-config of that very commit (the code running mark-applied, checked out at it). */
export function appliedRecordOf(platform: Pick<Platform, 'clusters'>, commit: string): AppliedRecord {
  const clusters = Object.fromEntries([...platform.clusters].sort((a, b) => a.name.localeCompare(b.name)).map((c) => [c.name, { serviceAccountIdentity: c.serviceAccountIdentity.stage }]));
  // This code's node-bootstrap records each control-plane node's stage (identity-roll.ts reads them).
  return { commit, clusters, identityStageRecords: true };
}

/** The annotation text: the header, a blank line, the record as JSON. */
export function appliedRecordMessage(record: AppliedRecord): string {
  return `${APPLIED_RECORD_HEADER}\n\n${JSON.stringify(record, null, 2)}\n`;
}

/**
 * The record in an annotation naming `commit`: undefined when the annotation carries none (a tag
 * written before records existed, or by hand). A header with unreadable data, or data for another
 * commit, throws: a gate must not guess.
 */
export function parseAppliedRecord(message: string, commit: string): AppliedRecord | undefined {
  const [first, ...rest] = message.split('\n');
  if (first?.trim() !== APPLIED_RECORD_HEADER) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(rest.join('\n'));
  } catch (error) {
    throw new Error(`applied record of ${commit.slice(0, 12)}: not JSON after "${APPLIED_RECORD_HEADER}" (${error instanceof Error ? error.message : String(error)})`);
  }
  const record = data as Partial<AppliedRecord> | null;
  const clustersOk =
    record !== null &&
    typeof record.clusters === 'object' &&
    record.clusters !== null &&
    Object.values(record.clusters).every((c: unknown) => typeof c === 'object' && c !== null && typeof (c as AppliedClusterRecord).serviceAccountIdentity === 'string');
  if (!record || typeof record.commit !== 'string' || !clustersOk || typeof record.identityStageRecords !== 'boolean') {
    throw new Error(`applied record of ${commit.slice(0, 12)}: expected {commit, clusters: {<name>: {serviceAccountIdentity}}, identityStageRecords}, got ${JSON.stringify(data)}`);
  }
  if (record.commit !== commit) throw new Error(`applied record describes ${record.commit.slice(0, 12)}, but the tag names ${commit.slice(0, 12)}: refusing data of another commit`);
  return record as AppliedRecord;
}

/**
 * The annotation of `ref` (a ref name or an object id) in this clone: its message when it names a
 * tag object, '' when it names a commit directly (a lightweight tag: no record), undefined when it
 * does not exist here.
 */
export function refAnnotation(repo: string, ref: string): string | undefined {
  const type = exec('git', ['cat-file', '-t', ref], { cwd: repo });
  if (type.code !== 0) return undefined;
  if (type.stdout.trim() !== 'tag') return '';
  const tag = exec('git', ['cat-file', 'tag', ref], { cwd: repo });
  // A tag object: header lines, a blank line, then the message.
  const blank = tag.stdout.indexOf('\n\n');
  return tag.code === 0 && blank >= 0 ? tag.stdout.slice(blank + 2) : '';
}

/** The record `ref` carries for `commit` in this clone; undefined when it carries none. */
export function readAppliedRecord(repo: string, ref: string, commit: string): AppliedRecord | undefined {
  const message = refAnnotation(repo, ref);
  return message ? parseAppliedRecord(message, commit) : undefined;
}
