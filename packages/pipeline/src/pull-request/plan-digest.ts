import { gunzipSync, gzipSync } from 'node:zlib';
import type { ChangeKind, PlanSummary } from './plan-summary';

/**
 * A compact digest of a plan (address and kind of every changed resource) that a plan
 * comment carries in a hidden HTML comment, so the merge can compare its own plan with
 * the last one the pull request showed (apply/plan-parity.ts).
 */

export type PlanDigest = readonly (readonly [address: string, kind: ChangeKind])[];

const DIGEST = /<!-- ha-kube-pipeline:plan-digest ([A-Za-z0-9+/=]+) -->/;

export function planDigest(summary: PlanSummary): PlanDigest {
  return summary.changes.map((c) => [c.address, c.kind] as const);
}

/** The hidden line a plan comment carries (gzip keeps long address lists small). */
export function planDigestComment(digest: PlanDigest): string {
  return `<!-- ha-kube-pipeline:plan-digest ${gzipSync(JSON.stringify(digest)).toString('base64')} -->`;
}

/** The digest a comment carries, or undefined (a comment from before digests, or not a plan comment). */
export function readPlanDigest(body: string): PlanDigest | undefined {
  const match = DIGEST.exec(body);
  if (!match) return undefined;
  try {
    return JSON.parse(gunzipSync(Buffer.from(match[1], 'base64')).toString('utf8')) as PlanDigest;
  } catch {
    return undefined;
  }
}

