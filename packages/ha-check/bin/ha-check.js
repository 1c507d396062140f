#!/usr/bin/env node
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS entry script: tsx must be registered before the TypeScript CLI loads */
// Runs the TypeScript CLI through tsx, so `npx ha-check` works from the workspace without a build.
require('tsx/cjs');
// V8's interrupt budget for a batch run: process-wide, so set here and never by the library (src/private/jit-budget.ts).
require('../src/private/jit-budget.ts').useBatchJitBudget();
require('../src/cli.ts')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
