import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AzScenario, Report } from '../src';
import { runCli, tempDir } from './helpers';

/*
 * The shipped clusters, end to end. ha-check may not import apps (module boundaries), and
 * apps/infra/cdktf.out is gitignored, so the Terraform is synthesized here in a child process
 * into a temp folder (no reliance on an earlier `npm run synth`). The manifests are the committed
 * clusters/<name> folders: exactly what Flux reconciles.
 */
const root = join(__dirname, '..', '..', '..');
let stacks: string;

beforeAll(() => {
  const out = tempDir();
  execFileSync(process.execPath, ['--import', 'tsx', '-e', `require(${JSON.stringify(join(root, 'apps/infra/src/main.ts'))}).synthInfra(${JSON.stringify(out)})`], { cwd: root, stdio: 'pipe' });
  stacks = join(out, 'stacks');
}, 120_000);

async function check(cluster: string): Promise<{ code: number; report: Report; markdown: string }> {
  const args = ['--cluster', cluster, '--terraform', join(stacks, `${cluster}-cluster`), '--repo-root', root];
  const json = await runCli([...args, '--format', 'json']);
  const markdown = await runCli([...args, '--format', 'markdown']);
  expect(json.stderr).toBe('');
  return { code: json.code, report: JSON.parse(json.stdout) as Report, markdown: markdown.stdout };
}

describe('shipped clusters', () => {
  it('synthesized every cluster stack', () => {
    for (const c of ['production', 'staging', 'dr']) expect(existsSync(join(stacks, `${c}-cluster`, 'cdk.tf.json'))).toBe(true);
  });

  it('production meets its objectives: every AZ loss survivable, region covered by dr', async () => {
    const { code, report, markdown } = await check('production');
    expect(report.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(code).toBe(0);
    const azs = report.scenarios.filter((s): s is AzScenario => s.kind === 'az-loss');
    expect(azs.map((s) => s.lost)).toEqual(['ap-northeast-2a', 'ap-northeast-2b', 'ap-northeast-2c']);
    for (const s of azs) {
      expect(s.survives).toBe(true);
      expect(s.etcd).toMatchObject({ members: 3, surviving: 2, quorum: true });
      expect(s.egress.every((e) => e.ok)).toBe(true);
      expect(s.recovery.apiSeconds).toBeLessThanOrEqual(60);
      expect(s.recovery.appSeconds).toBeLessThanOrEqual(120);
    }
    expect(report.scenarios.find((s) => s.kind === 'region-loss')).toMatchObject({ survives: true, standbyCluster: 'dr', standbyRegion: 'ap-northeast-1' });
    expect(markdown.split('\n')[0]).toBe('### ha-check: `production` ✅ objectives met');
  });

  it('staging meets its weaker objectives, and still reports its single NAT', async () => {
    const { code, report } = await check('staging');
    expect(code).toBe(0);
    expect(report.objectives.tolerateAzLoss).toBe(false);
    expect(report.findings.find((f) => f.id === 'nat.cross-az')).toMatchObject({ severity: 'warning', subject: 'staging-nat-a', scenarios: ['az-loss:ap-northeast-2a'] });
    expect(report.scenarios.find((s) => s.id === 'az-loss:ap-northeast-2a')?.survives).toBe(false);
  });

  it('dr is judged too (exit 0 or 1, never bad input)', async () => {
    const { code, report } = await check('dr');
    expect([0, 1]).toContain(code);
    expect(report.azs).toEqual(['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d']);
  });
});
