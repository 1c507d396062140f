import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * A `terraform` executable for the apply command's tests, put first on PATH. It serves the
 * stack in its working folder (named after the stack, as in cdktf.out/stacks/<stack>):
 *
 * - `plan -out=tfplan` writes a plan file holding a fresh id and the stack's
 *   `fake-plan.json`, and exits 2 when that plan has resource changes, else 0;
 * - `show -json tfplan` prints the plan JSON from the plan file;
 * - `apply tfplan` records the id of the plan file it was given;
 * - `<stack>:<command>` in FAKE_TERRAFORM_FAIL (comma-separated) makes that call exit 1.
 *
 * Every call is appended to the log as `{ stack, args, plan? }` (plan: the id applied).
 */
const SCRIPT = `#!/usr/bin/env node
const fs = require('node:fs');
const path = require('node:path');
const args = process.argv.slice(2);
const stack = path.basename(process.cwd());
const entry = { stack, args };
const fail = (process.env.FAKE_TERRAFORM_FAIL || '').split(',');
const done = (code, out, err) => {
  fs.appendFileSync(process.env.FAKE_TERRAFORM_LOG, JSON.stringify(entry) + '\\n');
  if (out) process.stdout.write(out);
  if (err) process.stderr.write(err);
  process.exit(code);
};
if (fail.includes(stack + ':' + args[0])) done(1, '', 'Error: fake ' + args[0] + ' of ' + stack + ' failed\\n');
if (args[0] === 'plan') {
  const plan = JSON.parse(fs.readFileSync('fake-plan.json', 'utf8'));
  const id = stack + '-' + process.hrtime.bigint();
  fs.writeFileSync('tfplan', JSON.stringify({ id, plan }));
  entry.plan = id;
  const changes = (plan.resource_changes || []).length;
  done(changes > 0 ? 2 : 0, '\\nPlan: ' + changes + ' changes.\\n');
}
if (args[0] === 'show') done(0, JSON.stringify(JSON.parse(fs.readFileSync(args.at(-1), 'utf8')).plan));
if (args[0] === 'apply') {
  entry.plan = JSON.parse(fs.readFileSync(args.at(-1), 'utf8')).id;
  done(0, 'Apply complete!\\n');
}
done(0, '');
`;

/**
 * The `aws` beside it, for the apply's promoted-standby guard: every `ssm get-parameter`
 * answers ParameterNotFound (no standby is promoted), logged to FAKE_AWS_LOG.
 */
const AWS_SCRIPT = `#!/usr/bin/env node
const fs = require('node:fs');
const args = process.argv.slice(2);
fs.appendFileSync(process.env.FAKE_AWS_LOG, JSON.stringify(args) + '\\n');
if (args[0] === 'ssm' && args[1] === 'get-parameter') {
  process.stderr.write('An error occurred (ParameterNotFound) when calling the GetParameter operation: \\n');
  process.exit(254);
}
process.stderr.write('fake aws: unexpected call ' + args.join(' ') + '\\n');
process.exit(2);
`;

export interface FakeTerraformCall {
  readonly stack: string;
  readonly args: readonly string[];
  /** plan: the id of the plan file written; apply: the id of the plan file applied. */
  readonly plan?: string;
}

export interface FakeTerraform {
  /** The folder holding the `terraform` executable. */
  readonly bin: string;
  readonly logFile: string;
  calls(): FakeTerraformCall[];
  /** The `aws` calls, each as its arguments. */
  awsCalls(): string[][];
  /** PATH with the fake first, and the variables the fake reads. */
  env(fail?: readonly string[]): Record<string, string>;
}

export function fakeTerraform(): FakeTerraform {
  const bin = mkdtempSync(join(tmpdir(), 'pipeline-fake-terraform-'));
  const script = join(bin, 'terraform');
  writeFileSync(script, SCRIPT);
  chmodSync(script, 0o755);
  writeFileSync(join(bin, 'aws'), AWS_SCRIPT);
  chmodSync(join(bin, 'aws'), 0o755);
  const logFile = join(bin, 'calls.jsonl');
  const awsLog = join(bin, 'aws-calls.jsonl');
  return {
    bin,
    logFile,
    calls: () =>
      existsSync(logFile)
        ? readFileSync(logFile, 'utf8')
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as FakeTerraformCall)
        : [],
    awsCalls: () => (existsSync(awsLog) ? readFileSync(awsLog, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as string[]) : []),
    env: (fail = []) => ({ PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`, FAKE_TERRAFORM_LOG: logFile, FAKE_TERRAFORM_FAIL: fail.join(','), FAKE_AWS_LOG: awsLog }),
  };
}
