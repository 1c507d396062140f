// Adds up the per-project vitest JSON reports into one closing line for CI.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const projects = ['apps', 'packages'].flatMap((dir) =>
  existsSync(join(root, dir)) ? readdirSync(join(root, dir)).filter((p) => existsSync(join(root, dir, p, 'project.json'))) : [],
);
const resultsDir = join(root, 'dist', 'test-results');
let passed = 0;
let failed = 0;
let skipped = 0;
for (const project of projects) {
  const file = join(resultsDir, `${project}.json`);
  if (!existsSync(file)) continue;
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
