// Adds up the per-project vitest JSON reports into one closing line for CI, whether or not
// the Nx run passed; the first argument is Nx's exit status, so a failed lint or type check
// fails the command even when every test passed.
import { readdirSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const resultsDir = join(root, 'dist', 'test-results');
if (process.argv[2] === '--clean') {
  // Before the run: results of an earlier run must not count (Nx restores cached ones).
  rmSync(resultsDir, { recursive: true, force: true });
  process.exit(0);
}
const nxStatus = Number(process.argv[2] ?? 0);
const projectDirs = [
  ...['apps', 'packages'].flatMap((dir) => (existsSync(join(root, dir)) ? readdirSync(join(root, dir)).map((p) => join(root, dir, p)) : [])),
  join(root, 'tools'),
].filter((dir) => existsSync(join(dir, 'project.json')));
let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
for (const dir of projectDirs) {
  const { name } = JSON.parse(readFileSync(join(dir, 'project.json'), 'utf8'));
  const file = join(resultsDir, `${name}.json`);
  if (!existsSync(file)) {
    missing.push(name);
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
}
const notes = [];
if (missing.length > 0) notes.push(`no results from ${missing.join(', ')}`);
if (nxStatus !== 0) notes.push(`nx exited ${nxStatus}: see the failed tasks above`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`);
process.exit(nxStatus !== 0 || failed > 0 || passed === 0 ? 1 : 0);
