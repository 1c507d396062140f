import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { benchmarkHaCheck } from '../src/bench';

// `npx tsx packages/ha-check/bench/bench.ts [objects] [--out file]`: one JSON line, goal wallMs ≤ 1000.
const { values, positionals } = parseArgs({ options: { out: { type: 'string' } }, allowPositionals: true });
const result = benchmarkHaCheck(Number(positionals[0] ?? 10_000));
const line = `${JSON.stringify({ name: 'ha-check', goalMs: 1000, ...result })}\n`;
if (values.out) {
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, line);
}
process.stdout.write(line);
