import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Platform } from '@platform/platform-config';
import { appliedRecordOf } from '../apply/applied-record';
import { exec } from '../private/exec';
import type { IdentityAtCommit } from './base-identity-stages';

/*
 * Each cluster's identity stage as data, generated from platform-config and committed
 * (`pipeline:identity-stages --write`): a check that needs an older commit's stages (the pull
 * request's base) reads that commit's file with `git show` instead of importing that commit's
 * platform-config with today's node_modules (a dependency bump broke it). The pull request's
 * identity-stages check refuses a file that is not what its own platform-config generates, so the
 * file of every commit of main says what that commit declares.
 */

/** Where, from the repository root. */
export const IDENTITY_STAGES_FILE = 'packages/pipeline/identity-stages.json';

const FORMAT = 'identity-stages v1';

/** The file's text for `platform`: the applied record's data (applied-record.ts) without a commit (a file cannot name its own). */
export function identityStagesFileText(platform: Pick<Platform, 'clusters'>): string {
  const { clusters, identityStageRecords } = appliedRecordOf(platform, '');
  return `${JSON.stringify({ format: FORMAT, clusters, identityStageRecords }, null, 2)}\n`;
}

/** The file's text in the work tree; undefined when there is none. */
export function workTreeIdentityStagesFile(repoRoot: string): string | undefined {
  try {
    return readFileSync(join(repoRoot, IDENTITY_STAGES_FILE), 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * What `commit`'s committed file says; undefined when that commit has no file (older than it).
 * A file that does not parse throws: a check must not guess.
 */
export function committedIdentityAt(repoRoot: string, commit: string): IdentityAtCommit | undefined {
  const shown = exec('git', ['show', `${commit}:${IDENTITY_STAGES_FILE}`], { cwd: repoRoot });
  if (shown.code !== 0) {
    if (/does not exist in|exists on disk, but not in/.test(shown.stderr)) return undefined;
    throw new Error(`git show ${commit.slice(0, 12)}:${IDENTITY_STAGES_FILE} failed: ${shown.stderr.trim()}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(shown.stdout);
  } catch (error) {
    throw new Error(`${IDENTITY_STAGES_FILE} at ${commit.slice(0, 12)}: not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const file = data as { format?: unknown; clusters?: Record<string, { serviceAccountIdentity?: unknown }>; identityStageRecords?: unknown } | null;
  const clusters = file?.clusters;
  if (
    file?.format !== FORMAT ||
    typeof clusters !== 'object' ||
    clusters === null ||
    !Object.values(clusters).every((c) => typeof c?.serviceAccountIdentity === 'string') ||
    typeof file.identityStageRecords !== 'boolean'
  ) {
    throw new Error(`${IDENTITY_STAGES_FILE} at ${commit.slice(0, 12)}: expected {format: "${FORMAT}", clusters: {<name>: {serviceAccountIdentity}}, identityStageRecords}, got ${shown.stdout.trim()}`);
  }
  return { stages: Object.fromEntries(Object.entries(clusters).map(([name, c]) => [name, c.serviceAccountIdentity as string])), stageRecords: file.identityStageRecords };
}
