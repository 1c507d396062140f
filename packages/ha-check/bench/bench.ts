import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { useBatchJitBudget } from '../src/private/jit-budget';
import { benchmarkHaCheck, HA_CHECK_GOAL_MS, judgeHaCheckBench } from './harness';

// `npx tsx packages/ha-check/bench/bench.ts [objects] [--out file]`: one JSON line, then the verdict
// against the goal (≤ 1 s for 10,000 objects, in CPU time and in wall time).
const { values, positionals } = parseArgs({ options: { out: { type: 'string' } }, allowPositionals: true });
// The CLI's setting (bin/ha-check.js sets it before the CLI loads): the bench measures what `npx ha-check` runs.
useBatchJitBudget();
const result = benchmarkHaCheck(Number(positionals[0] ?? 10_000));
const loadAverage = Math.round(loadavg()[0] * 100) / 100;
const verdict = judgeHaCheckBench(result, { loadAverage, cpuCount: cpus().length });
const line = `${JSON.stringify({ name: 'ha-check', goalMs: HA_CHECK_GOAL_MS, ...result, loadAverage, cpuGoalMet: verdict.cpuGoalMet, wallGoalMet: verdict.wallGoalMet })}\n`;
if (values.out) {
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, line);
}
process.stdout.write(line);
process.stderr.write(`${verdict.line}\n`);
