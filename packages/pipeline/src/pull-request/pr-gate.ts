/**
 * The one required status check of a pull request (`pr-gate` in pull-request.yml): the matrix
 * jobs' names change with the stacks a change touches and a skipped job never reports, so
 * branch protection (and with it staging auto-merge) can only rely on one job that needs them all.
 */

/** A job's `needs.<job>` as `toJSON(needs)` gives it. */
export interface GateNeed {
  readonly result: string;
  readonly outputs?: Readonly<Record<string, string>>;
}

export interface GateContext {
  /** Whether the pull request comes from this repository (else a fork). */
  readonly sameRepository: boolean;
}

/** Every job the gate needs and when skipping it is legitimate (anything else skipped closes the gate). */
export const GATED_JOBS: Readonly<Record<string, (needs: Readonly<Record<string, GateNeed>>, context: GateContext) => boolean>> = {
  checks: () => false,
  stacks: () => false,
  // Only same-repository pull requests get comments.
  'unaffected-comments': (_, { sameRepository }) => !sameRepository,
  plan: (needs, { sameRepository }) => needs.stacks?.outputs?.any !== 'true' || !sameRepository,
  'plan-fork': (needs, { sameRepository }) => needs.stacks?.outputs?.any !== 'true' || sameRepository,
  clusters: (needs, { sameRepository }) => needs.stacks?.outputs?.any_clusters !== 'true' || !sameRepository,
  'clusters-fork': (needs, { sameRepository }) => needs.stacks?.outputs?.any_clusters !== 'true' || sameRepository,
};

/** Why the gate is closed; empty when it is open. */
export function prGateProblems(needs: Readonly<Record<string, GateNeed>>, context: GateContext): string[] {
  const problems: string[] = [];
  for (const job of Object.keys(needs)) if (!(job in GATED_JOBS)) problems.push(`${job}: a job the gate does not know (add it to GATED_JOBS with when it may be skipped)`);
  for (const [job, maySkip] of Object.entries(GATED_JOBS)) {
    const need = needs[job];
    if (need === undefined) problems.push(`${job}: not in the gate's needs`);
    else if (need.result === 'success') continue;
    else if (need.result === 'skipped') {
      if (!maySkip(needs, context)) problems.push(`${job}: skipped although this pull request needs it`);
    } else problems.push(`${job}: ${need.result}`);
  }
  return problems;
}

/** Clusters whose ha-check did not pass (exit 1 objectives not met, 2 bad input); a skipped ha-check is none. */
export function haCheckFailures(outcomes: readonly { readonly cluster: string; readonly exitCode: number | undefined }[]): string[] {
  return [...new Set(outcomes.filter((o) => o.exitCode !== undefined && o.exitCode !== 0).map((o) => o.cluster))].sort();
}
