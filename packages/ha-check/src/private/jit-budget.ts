import { setFlagsFromString } from 'node:v8';

/**
 * V8's interrupt budget (bytecode executed before a function is considered for optimization) for
 * a run of the ha-check CLI. A run is a batch job of about a second: with V8's default (67,584
 * bytes in Node 20: `node --v8-options` shows `--interrupt-budget=67584`) TurboFan compiles the same
 * scheduler and model functions again and again on its helper threads, and on the bench's 10,000
 * objects that compilation was ≈ 45 % of the process's CPU time (perf samples of the helper threads,
 * docs/benchmarks.md) while the optimized code ran for a few hundred milliseconds. With a larger
 * budget only what stays hot gets optimized. 1,000,000 since the scheduler's per-pod paths lost their
 * iterators and named closures (docs/benchmarks.md, third follow-up): measured against 300,000 and
 * 600,000 in alternation, it took the least CPU (2,000,000 and more took more again).
 */
export const INTERRUPT_BUDGET_BYTES = 1_000_000;

/** Node majors whose V8 (11.3 to 13.x) has `--interrupt-budget`; V8 has carried it for years, but a version not checked is not trusted. */
const CHECKED_NODE_MAJORS = new Set([20, 21, 22, 23, 24]);

/**
 * Whether this Node's V8 knows the flag. V8 reports an unknown flag by writing "unrecognized flag"
 * to file descriptor 2 itself (past `process.stderr`, so nothing could catch it): unknown versions
 * keep V8's default instead.
 */
export function v8KnowsInterruptBudget(nodeVersion: string = process.versions.node): boolean {
  return CHECKED_NODE_MAJORS.has(Number(nodeVersion.split('.')[0]));
}

let applied = false;

/**
 * A process-wide setting, so only for processes ha-check owns: the CLI entry (bin/ha-check.js,
 * before the CLI loads) and the bench, which measures what the CLI runs. Never `runHaCheck`: a
 * library must not retune its caller's V8. It changes when code is optimized, never what it computes.
 */
export function useBatchJitBudget(): void {
  if (applied || !v8KnowsInterruptBudget()) return;
  applied = true;
  setFlagsFromString(`--interrupt-budget=${INTERRUPT_BUDGET_BYTES}`);
}
