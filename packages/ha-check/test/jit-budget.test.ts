import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_OBJECTIVES, runHaCheck } from '../src';
import { INTERRUPT_BUDGET_BYTES, v8KnowsInterruptBudget } from '../src/private/jit-budget';
import { tempDir, writeFixture } from './helpers';

const setFlags = vi.hoisted(() => vi.fn());
vi.mock('node:v8', async (importOriginal) => ({ ...(await importOriginal<typeof import('node:v8')>()), setFlagsFromString: setFlags }));

describe("V8's interrupt budget is the CLI's setting, never the library's (issue #13 M1)", () => {
  it('runHaCheck (the library) leaves the process-wide V8 flags alone', () => {
    const f = writeFixture();
    runHaCheck({ terraform: [f.terraform], manifests: f.manifests, objectives: DEFAULT_OBJECTIVES });
    expect(setFlags).not.toHaveBeenCalled();
  });

  it('the CLI entry sets it once, and nothing about flags reaches stderr', () => {
    const f = writeFixture();
    // A preload that records every V8 flag the process sets, then sets it.
    const log = join(tempDir(), 'flags.log');
    const preload = join(tempDir(), 'record-flags.cjs');
    writeFileSync(preload, `const v8 = require('node:v8'); const set = v8.setFlagsFromString; v8.setFlagsFromString = (s) => { require('node:fs').appendFileSync(${JSON.stringify(log)}, s + '\\n'); return set(s); };`);
    const r = spawnSync(process.execPath, ['--require', preload, join(__dirname, '../bin/ha-check.js'), '--terraform', f.terraform, '--manifests', f.manifests, '--format', 'json'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(readFileSync(log, 'utf8')).toBe(`--interrupt-budget=${INTERRUPT_BUDGET_BYTES}\n`);
  });

  it('only on Node versions whose V8 knows the flag (V8 would print "unrecognized flag" itself, past process.stderr)', () => {
    expect(v8KnowsInterruptBudget('20.20.2')).toBe(true);
    expect(v8KnowsInterruptBudget('24.1.0')).toBe(true);
    expect(v8KnowsInterruptBudget('30.0.0')).toBe(false);
    expect(v8KnowsInterruptBudget('18.0.0')).toBe(false);
  });
});
