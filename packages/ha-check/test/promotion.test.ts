import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAILOVER_WORKFLOW, findPromotionPath, objectivesForCluster, PROMOTION_PHASE_SECONDS, promotionEstimateSeconds } from '../src';
import { tempDir } from './helpers';

const root = join(__dirname, '..', '..', '..');

describe('promotion path', () => {
  it('is found in this repository for production (its standby dr) and for dr itself', () => {
    const production = findPromotionPath('production', objectivesForCluster('production'), root);
    expect(production).toEqual({ workflow: FAILOVER_WORKFLOW, command: 'npm run failover -- promote --standby dr', estimatedSeconds: 1980, phases: PROMOTION_PHASE_SECONDS });
    expect(findPromotionPath('dr', objectivesForCluster('dr'), root)?.command).toBe('npm run failover -- promote --standby dr');
  });

  it('is absent for a cluster outside any pair, and where the workflow or the script is missing', () => {
    expect(findPromotionPath('staging', objectivesForCluster('staging'), root)).toBeUndefined();
    const dir = tempDir();
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ scripts: { failover: 'tsx packages/failover/src/cli.ts' } }));
    expect(findPromotionPath('production', objectivesForCluster('production'), dir)).toBeUndefined();
    mkdirSync(join(dir, '.github', 'workflows'), { recursive: true });
    writeFileSync(join(dir, FAILOVER_WORKFLOW), 'on:\n  push:\njobs: {}\n# npm run failover\n');
    expect(findPromotionPath('production', objectivesForCluster('production'), dir)).toBeUndefined();
    writeFileSync(join(dir, FAILOVER_WORKFLOW), 'on:\n  workflow_dispatch:\njobs: {}\n# npm run failover\n');
    expect(findPromotionPath('production', objectivesForCluster('production'), dir)?.estimatedSeconds).toBe(promotionEstimateSeconds());
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ scripts: {} }));
    expect(findPromotionPath('production', objectivesForCluster('production'), dir)).toBeUndefined();
  });

  it('uses the upper bounds of the runbook\'s estimate table, phase by phase', () => {
    const runbook = readFileSync(join(root, 'docs', 'runbooks', 'region-failover.md'), 'utf8');
    for (const [phase, seconds] of Object.entries(PROMOTION_PHASE_SECONDS)) {
      const row = new RegExp(`^\\| ${phase} \\|.*\\| [\\d.]+–([\\d.]+) min \\|$`, 'm').exec(runbook);
      expect(row, `runbook row for ${phase}`).not.toBeNull();
      expect(Number(row?.[1]) * 60, phase).toBe(seconds);
    }
  });

  it('names the failover script\'s own steps (packages/failover plans)', () => {
    const plans = readFileSync(join(root, 'packages', 'failover', 'src', 'plans.ts'), 'utf8');
    const steps = readFileSync(join(root, 'packages', 'failover', 'src', 'steps', 'restore-database.ts'), 'utf8') + readFileSync(join(root, 'packages', 'failover', 'src', 'steps', 'verify-app.ts'), 'utf8');
    for (const phase of Object.keys(PROMOTION_PHASE_SECONDS).filter((p) => p !== 'decision')) expect(plans + steps).toContain(`'${phase}'`);
  });
});
