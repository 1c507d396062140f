import { benchmarkHaCheck } from '../src/bench';

// `npx tsx packages/ha-check/bench/bench.ts [objects]`: one JSON line, goal wallMs ≤ 1000.
const result = benchmarkHaCheck(Number(process.argv[2] ?? 10_000));
process.stdout.write(`${JSON.stringify({ name: 'ha-check', goalMs: 1000, ...result })}\n`);
