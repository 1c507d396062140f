import { setFlagsFromString } from 'node:v8';

/**
 * V8's interrupt budget (bytecode executed before a function is considered for optimization) for
 * a run of ha-check. A run is a batch job of about a second: with V8's default (≈ 132 KiB in
 * Node 20) TurboFan compiles the same scheduler and model functions again and again on its helper
 * threads, and on the bench's 10,000 objects that compilation was ≈ 45 % of the process's CPU time
 * (perf samples of the helper threads, docs/benchmarks.md) while the optimized code ran for a few
 * hundred milliseconds. With a larger budget only what stays hot gets optimized.
 */
export const INTERRUPT_BUDGET_BYTES = 300_000;

let applied = false;

/**
 * Applied once per process, before the first run (the CLI and library callers alike, so the bench
 * measures what `npx ha-check` does). It changes when code is optimized, never what it computes.
 */
export function useBatchJitBudget(): void {
  if (applied) return;
  applied = true;
  setFlagsFromString(`--interrupt-budget=${INTERRUPT_BUDGET_BYTES}`);
}
