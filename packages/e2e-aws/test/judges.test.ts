import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareWithBaseline, loadBaseline, matches, runCheckov, runZizmor, type Finding } from '../src/judges';

const repoRoot = resolve(__dirname, '../../..');
const baselineFile = join(__dirname, '..', 'judges-baseline.yaml');
const show = (f: Finding) => `${f.tool} ${f.rule} ${f.file} ${f.resource}: ${f.title}`;

describe('judges baseline matching', () => {
  const finding: Finding = { tool: 'checkov', rule: 'CKV_K8S_43', file: 'clusters/staging/apps/sample-web.yaml', resource: 'Deployment.web.web', title: 'digest' };

  it('matches by tool, rule, file and resource globs', () => {
    expect(matches({ tool: 'checkov', rule: 'CKV_K8S_*', file: 'clusters/*/apps/sample-web.yaml', reason: 'r' }, finding)).toBe(true);
    expect(matches({ tool: 'zizmor', rule: 'CKV_K8S_*', file: 'clusters/*/apps/sample-web.yaml', reason: 'r' }, finding)).toBe(false);
    expect(matches({ tool: 'checkov', rule: 'CKV_K8S_43', file: 'clusters/*/apps/sample-web.yaml', resource: 'Job.*', reason: 'r' }, finding)).toBe(false);
  });

  it('reports a new finding and a stale entry', () => {
    const stale = { tool: 'checkov' as const, rule: 'CKV_AWS_1', file: '*', reason: 'gone' };
    expect(compareWithBaseline([finding], [stale])).toEqual({ fresh: [finding], stale: [stale] });
  });

  it('every committed suppression has a one-line reason', () => {
    const entries = loadBaseline(baselineFile);
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries) expect(e.reason.length, `${e.rule} ${e.file}`).toBeGreaterThan(20);
  });
});

// checkov and zizmor from the pinned venv (tools/e2e/venv.sh judges: built once, ~2.5 min,
// then reused while tools/e2e/requirements-judges.txt is unchanged).
describe('checkov and zizmor find nothing beyond the baseline', () => {
  let findings: Finding[] = [];

  beforeAll(async () => {
    const binDir = execFileSync(join(repoRoot, 'tools/e2e/venv.sh'), ['judges'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    findings = [...(await runCheckov(binDir, repoRoot)), ...runZizmor(binDir, repoRoot)];
  }, 600_000);

  it('judged all three inputs and the workflows', () => {
    for (const prefix of ['apps/infra/cdktf.out/stacks/', 'clusters/', '.github/workflows/']) expect(findings.some((f) => f.file.startsWith(prefix)), prefix).toBe(true);
    expect(findings.some((f) => f.tool === 'zizmor')).toBe(true);
  });

  it('no finding outside the baseline, no baseline entry without a finding', () => {
    const { fresh, stale } = compareWithBaseline(findings, loadBaseline(baselineFile));
    expect(fresh.map(show), 'new findings: fix them, or add a suppression with its reason to judges-baseline.yaml').toEqual([]);
    expect(stale.map((e) => `${e.tool} ${e.rule} ${e.file} ${e.resource ?? ''}`), 'stale suppressions: remove them from judges-baseline.yaml').toEqual([]);
  });
});
