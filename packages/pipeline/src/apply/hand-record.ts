import { SERVICE_ACCOUNT_IDENTITY_STAGES, type Platform } from '@platform/platform-config';
import { exec } from '../private/exec';
import type { AppliedRecord } from './applied-record';

/*
 * The way out when the applied tag carries no record and its commit's platform-config no longer
 * loads with today's node_modules (the gate's one-time fallback fails): an operator writes the record
 * for the tag's commit by hand (`mark-applied --record`). The stages come from the operator (what the
 * nodes run: `serviceAccountIdentity` in that commit's clusters/*.ts, or the nodes' SSM records); what
 * can be derived from that commit's files without running its code is derived.
 */

/** `--stage` value for a cluster the applied commit did not define yet (the gate does not check it). */
export const ABSENT_STAGE = 'absent';

/**
 * Whether `commit`'s node-bootstrap records each control-plane node's identity stage: its
 * platform-config source derives `identityStageRecords` (read with git, never imported).
 */
export function stageRecordsAt(repo: string, commit: string): boolean {
  const found = exec('git', ['grep', '--quiet', '--word-regexp', 'identityStageRecords', commit, '--', 'packages/platform-config/src'], { cwd: repo });
  if (found.code > 1) throw new Error(`git grep in ${commit.slice(0, 12)} failed: ${found.stderr.trim()}`);
  return found.code === 0;
}

/**
 * The record of `commit` from `--stage <cluster>=<stage>` values: each of today's clusters exactly
 * once (a forgotten cluster would silently pass the gate), at a known stage or `absent`. Throws
 * naming the value and what is allowed.
 */
export function handRecord(platform: Pick<Platform, 'clusters'>, values: readonly string[], commit: string, identityStageRecords: boolean): AppliedRecord {
  const known = platform.clusters.map((c) => c.name);
  const allowed = [...SERVICE_ACCOUNT_IDENTITY_STAGES, ABSENT_STAGE];
  const stages = new Map<string, string>();
  for (const value of values) {
    const match = /^([^=]+)=(.+)$/.exec(value);
    if (!match) throw new Error(`--stage ${value}: expected <cluster>=<stage>, e.g. ${known[0] ?? 'production'}=accept-issuer`);
    const [, cluster, stage] = match as unknown as [string, string, string];
    if (!known.includes(cluster)) throw new Error(`--stage ${value}: ${cluster} is no cluster; expected one of ${known.join(', ')}`);
    if (!allowed.includes(stage)) throw new Error(`--stage ${value}: stage ${stage} is unknown; expected one of ${allowed.join(', ')} (${ABSENT_STAGE}: the cluster did not exist at the applied commit)`);
    if (stages.has(cluster)) throw new Error(`--stage ${value}: ${cluster} is given twice`);
    stages.set(cluster, stage);
  }
  const missing = known.filter((c) => !stages.has(c));
  if (missing.length > 0) throw new Error(`--stage: no stage given for ${missing.join(', ')}; expected --stage <cluster>=<stage> for every cluster (${known.join(', ')}), ${ABSENT_STAGE} for one the applied commit did not define`);
  const clusters = Object.fromEntries(
    [...stages]
      .filter(([, stage]) => stage !== ABSENT_STAGE)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, stage]) => [name, { serviceAccountIdentity: stage }]),
  );
  return { commit, clusters, identityStageRecords };
}
