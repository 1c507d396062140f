/**
 * What a run covers. A recorded run (`npm run e2e:aws`, `.ci/run`) applies every stack and runs
 * every phase; E2E_AWS_ONLY (stacks) and E2E_AWS_SKIP (phases) narrow it for development, and
 * such a run ends PARTIAL, non-zero, unless `--accept-partial` says the narrowing is meant.
 */
export const SKIPPABLE_PHASES = ['boot', 'failover', 'drift'] as const;
export type SkippablePhase = (typeof SKIPPABLE_PHASES)[number];

/** Exit code of a run that passed what it ran but skipped stacks or phases (not accepted). */
export const PARTIAL_EXIT_CODE = 3;
export const ACCEPT_PARTIAL_FLAG = '--accept-partial';

export interface RunScope {
  /** The stacks applied, in the pipeline's order. */
  readonly stacks: readonly string[];
  readonly skipPhases: ReadonlySet<SkippablePhase>;
  /** Human-readable: what this run left out (empty for a full run). */
  readonly skipped: readonly string[];
  readonly acceptPartial: boolean;
}

const list = (value: string | undefined) => (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);

/**
 * The run's scope from its environment and arguments; an unknown stack or phase fails before
 * anything starts (a typo must not quietly turn into a smaller run).
 */
export function runScope(env: Readonly<Record<string, string | undefined>>, argv: readonly string[], allStacks: readonly string[]): RunScope {
  const only = list(env.E2E_AWS_ONLY);
  const unknownStacks = only.filter((s) => !allStacks.includes(s));
  if (unknownStacks.length > 0) throw new Error(`E2E_AWS_ONLY: unknown stack(s) ${unknownStacks.join(', ')}; the synthesized stacks are ${allStacks.join(', ')}`);
  const skip = list(env.E2E_AWS_SKIP);
  const unknownPhases = skip.filter((p) => !(SKIPPABLE_PHASES as readonly string[]).includes(p));
  if (unknownPhases.length > 0) throw new Error(`E2E_AWS_SKIP: unknown phase(s) ${unknownPhases.join(', ')}; phases that can be skipped: ${SKIPPABLE_PHASES.join(', ')}`);
  const stacks = only.length > 0 ? allStacks.filter((s) => only.includes(s)) : [...allStacks];
  const leftOut = allStacks.filter((s) => !stacks.includes(s));
  const skipped = [...(leftOut.length > 0 ? [`stacks ${leftOut.join(', ')} (E2E_AWS_ONLY)`] : []), ...(skip.length > 0 ? [`phases ${skip.join(', ')} (E2E_AWS_SKIP)`] : [])];
  const acceptPartial = argv.some((a) => a === ACCEPT_PARTIAL_FLAG || a === `${ACCEPT_PARTIAL_FLAG}=true`);
  return { stacks, skipPhases: new Set(skip as SkippablePhase[]), skipped, acceptPartial };
}

/** The run's heading and exit code: a failure wins; a narrowed run is PARTIAL and exits non-zero unless accepted. */
export function runVerdict(failed: boolean, scope: RunScope): { heading: string; exitCode: number } {
  if (failed) return { heading: `❌${scope.skipped.length > 0 ? ` (PARTIAL run: skipped ${scope.skipped.join('; ')})` : ''}`, exitCode: 1 };
  if (scope.skipped.length === 0) return { heading: '✅', exitCode: 0 };
  const what = `PARTIAL: skipped ${scope.skipped.join('; ')}`;
  return scope.acceptPartial ? { heading: `⚠️ ${what} (accepted with ${ACCEPT_PARTIAL_FLAG}; not a recorded run)`, exitCode: 0 } : { heading: `⚠️ ${what}; not a pass (re-run without the filters, or add ${ACCEPT_PARTIAL_FLAG})`, exitCode: PARTIAL_EXIT_CODE };
}

export const DEADLINE_ENV = 'E2E_AWS_DEADLINE_MINUTES';
export const DEADLINE_FLAG = '--deadline-minutes';
/**
 * CI's job limit is 60 min and `.ci/run` spends ≈ 22 min in `npm test` before the e2e run; 30 min
 * for the phases leaves the destroy (which always runs) and the venvs room within it.
 */
export const DEFAULT_DEADLINE_MINUTES = 30;

/**
 * Minutes after its start past which the run starts no new phase (apply of the next stack, boot,
 * failover, drift): it goes to destroy, prints the closing table and exits non-zero. From
 * `--deadline-minutes=N` (wins) or E2E_AWS_DEADLINE_MINUTES; a value that is not a positive number
 * fails before anything starts.
 */
export function runDeadline(env: Readonly<Record<string, string | undefined>>, argv: readonly string[]): number {
  const flag = argv.find((a) => a.startsWith(`${DEADLINE_FLAG}=`));
  const [source, raw] = flag ? [DEADLINE_FLAG, flag.slice(DEADLINE_FLAG.length + 1)] : [DEADLINE_ENV, env[DEADLINE_ENV]];
  if (raw === undefined || raw === '') return DEFAULT_DEADLINE_MINUTES;
  const minutes = Number(raw);
  if (!Number.isFinite(minutes) || minutes <= 0) throw new Error(`${source}: ${JSON.stringify(raw)} is not a number of minutes above 0 (default ${DEFAULT_DEADLINE_MINUTES})`);
  return minutes;
}
