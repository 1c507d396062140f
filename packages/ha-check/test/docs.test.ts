import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OBJECTIVES, FINDING_CATALOGUE, runHaCheck, type AzScenario, type RegionScenario } from '../src';
import { PRIMARY_OBJECTIVES } from './fixtures/region-failover';
import { writeFixture } from './helpers';

/** docs/ha-check.md is the report's documented schema and finding catalogue: it must not drift. */
const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'ha-check.md'), 'utf8');

describe('docs/ha-check.md', () => {
  it('catalogues exactly FINDING_CATALOGUE: every id with its severity rule, when it is raised and a model section that exists', () => {
    const section = doc.slice(doc.indexOf('## Finding catalogue'), doc.indexOf('\n## ', doc.indexOf('## Finding catalogue') + 1));
    const rows = section.split('\n').filter((l) => l.startsWith('| `')).map((l) => l.slice(2, -2).split(' | '));
    const rule: Record<string, string> = { az: 'AZ', region: 'region', backups: 'backups', error: 'error', warning: 'warning', info: 'info' };
    const expected = Object.entries(FINDING_CATALOGUE).map(([id, e]) => [`\`${id}\``, rule[e.severity], e.when, `[model](${e.doc})`]);
    expect(rows).toEqual(expected);
    const anchors = new Set(doc.split('\n').filter((l) => l.startsWith('## ')).map((l) => `#${l.slice(3).toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')}`));
    expect([...new Set(Object.values(FINDING_CATALOGUE).map((e) => e.doc))].filter((a) => !anchors.has(a))).toEqual([]);
  });

  it('documents every field of a JSON report (top level, AZ scenario, region scenario)', () => {
    const f = writeFixture({ dns: { role: 'PRIMARY' }, nat: 'single' });
    const report = JSON.parse(JSON.stringify(runHaCheck({ terraform: [f.terraform], manifests: f.manifests, objectives: { ...DEFAULT_OBJECTIVES, ...PRIMARY_OBJECTIVES }, cluster: 'fixture' })));
    const az = report.scenarios.find((s: AzScenario) => s.kind === 'az-loss');
    const region = report.scenarios.find((s: RegionScenario) => s.kind === 'region-loss');
    const keys = [report, report.summary, report.assumptions, report.topology[0], report.objectives, az, az.etcd, az.api, az.capacity, az.workloads[0], az.recovery, region, region.rpo, region.rto, region.dnsFailover, region.dnsFailover.healthCheck, region.promotion, report.findings[0], report.flows[0], az.flows, report.coldStart, report.coldStart.firstControlPlane, report.coldStart.firstControlPlane.pending[0] ?? {}, report.elasticity, report.elasticity.hpas[0], report.elasticity.hpas[0].scaleUp, report.elasticity.capacityPerAz[0], report.elasticity.scenarios[0], report.elasticity.scenarios[0].terms[0]].flatMap((o) => Object.keys(o));
    const undocumented = [...new Set(keys)].filter((k) => !new RegExp(`\\b${k}\\??:`).test(doc));
    expect(undocumented).toEqual([]);
  });
});
