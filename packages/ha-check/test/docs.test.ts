import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OBJECTIVES, runHaCheck, type AzScenario, type RegionScenario } from '../src';
import { PRIMARY_OBJECTIVES } from './fixtures/region-failover';
import { writeFixture } from './helpers';

/** docs/ha-check.md is the report's documented schema and finding catalogue: it must not drift. */
const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'ha-check.md'), 'utf8');
const srcFiles = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? srcFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));

describe('docs/ha-check.md', () => {
  it('catalogues exactly the finding ids the analysis raises', () => {
    const raised = new Set(srcFiles(join(__dirname, '..', 'src')).flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/(?:id: |add\()'([a-z-]+\.[a-z-]+)'/g)].map((m) => m[1])));
    const catalogue = new Set(doc.split('\n').filter((l) => l.startsWith('| `')).flatMap((l) => [...(l.split(' | ')[0] ?? '').matchAll(/`([a-z-]+\.[a-z-]+)`/g)].map((m) => m[1])));
    expect(raised.size).toBeGreaterThan(40);
    expect([...catalogue].sort()).toEqual([...raised].sort());
  });

  it('documents every field of a JSON report (top level, AZ scenario, region scenario)', () => {
    const f = writeFixture({ dns: { role: 'PRIMARY' }, nat: 'single' });
    const report = JSON.parse(JSON.stringify(runHaCheck({ terraform: [f.terraform], manifests: f.manifests, objectives: { ...DEFAULT_OBJECTIVES, ...PRIMARY_OBJECTIVES }, cluster: 'fixture' })));
    const az = report.scenarios.find((s: AzScenario) => s.kind === 'az-loss');
    const region = report.scenarios.find((s: RegionScenario) => s.kind === 'region-loss');
    const keys = [report, report.summary, report.assumptions, report.topology[0], report.objectives, az, az.etcd, az.api, az.capacity, az.workloads[0], az.recovery, region, region.rpo, region.rto, region.dnsFailover, region.dnsFailover.healthCheck, region.promotion, report.findings[0]].flatMap((o) => Object.keys(o));
    const undocumented = [...new Set(keys)].filter((k) => !new RegExp(`\\b${k}\\??:`).test(doc));
    expect(undocumented).toEqual([]);
  });
});
