import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { K6_IMAGE } from '../src/operations/scale-day/load-job';
import { execOk } from '../src/private/exec';
import { ROOT } from './support/infra-synth';

/**
 * renovate.json at the repository root: each regex manager is run over the files its
 * patterns select (as Renovate does: the whole file, every match), so a pin table whose
 * format changes, or a pin the regexes miss, fails here instead of silently going stale.
 */

interface CustomManager {
  customType: string;
  managerFilePatterns: string[];
  matchStrings: string[];
  datasourceTemplate?: string;
  depNameTemplate?: string;
}
const config = JSON.parse(readFileSync(join(ROOT, 'renovate.json'), 'utf8')) as { customManagers: CustomManager[]; packageRules: { matchPackageNames?: string[]; matchDatasources?: string[]; groupName?: string; allowedVersions?: string }[] };
const files = execOk('git', ['ls-files'], { cwd: ROOT }).trim().split('\n');

function pattern(p: string): RegExp {
  const m = /^\/(.*)\/$/.exec(p);
  if (!m) throw new Error(`managerFilePatterns entry ${p} is not a /regex/`);
  return new RegExp(m[1]);
}

/** Every dependency the custom managers extract, with the file it is in. */
function extracted(): { file: string; depName: string; currentValue: string; datasource: string }[] {
  const out: { file: string; depName: string; currentValue: string; datasource: string }[] = [];
  for (const manager of config.customManagers) {
    expect(manager.customType).toBe('regex');
    for (const file of files.filter((f) => manager.managerFilePatterns.some((p) => pattern(p).test(f)))) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const source of manager.matchStrings) {
        for (const m of text.matchAll(new RegExp(source, 'g'))) {
          const groups = m.groups ?? {};
          out.push({ file, depName: groups.depName ?? manager.depNameTemplate ?? '', currentValue: groups.currentValue, datasource: manager.datasourceTemplate ?? '' });
        }
      }
    }
  }
  return out;
}

describe('renovate.json', () => {
  const deps = extracted();

  it('uses the current option names (customManagers, managerFilePatterns), not the removed ones', () => {
    const text = readFileSync(join(ROOT, 'renovate.json'), 'utf8');
    expect(text).not.toMatch(/"(regexManagers|fileMatch)"/);
  });

  it('finds every Helm chart of the k8s-addons release table with its pinned version', () => {
    const table = readFileSync(join(ROOT, 'packages/k8s-addons/src/releases.ts'), 'utf8');
    const literal = [...table.matchAll(/chart: '([^']+)',\s*version: '([^']+)'/g)].map((m) => `${m[1]}@${m[2]}`).sort();
    expect(literal.length).toBeGreaterThan(0);
    // Charts of a Helm repository through the helm datasource, of an OCI registry (oci://) as OCI artifacts (docker).
    const found = deps.filter((d) => d.file === 'packages/k8s-addons/src/releases.ts' && ['helm', 'docker'].includes(d.datasource)).map((d) => `${d.depName}@${d.currentValue}`).sort();
    expect(found).toEqual(literal);
  });

  it('finds every first-boot chart (Helm repository or OCI) where the pins are kept', () => {
    const pinFiles = ['packages/core-addons/src/pins.ts', 'packages/platform-config/src/bootstrap.ts'].filter((f) => existsSync(join(ROOT, f)) && /chart: '/.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(pinFiles.length).toBeGreaterThan(0);
    for (const file of pinFiles) {
      const charts = [...readFileSync(join(ROOT, file), 'utf8').matchAll(/chart: '([^']+)'/g)].map((m) => m[1]).sort();
      expect(deps.filter((d) => d.file === file).map((d) => d.depName).sort(), file).toEqual(charts);
    }
    expect(deps.find((d) => d.depName === 'flux-operator')?.datasource).toBe('docker');
  });

  it('finds every pin of each Kubernetes minor row (cloud controller, cluster-autoscaler, CoreDNS, etcd)', () => {
    const table = ['packages/core-addons/src/versions.ts', 'packages/k8s-addons/src/releases.ts'].find((f) => existsSync(join(ROOT, f)) && /'1\.\d+': \{ [a-zA-Z]+: 'v/.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(table).toBeDefined();
    const text = readFileSync(join(ROOT, table as string), 'utf8');
    const rows = [...text.matchAll(/^\s*'1\.\d+': \{(.*)\},?$/gm)].map((m) => m[1]);
    expect(rows.length).toBeGreaterThan(0);
    const keys = [...new Set(rows.flatMap((r) => [...r.matchAll(/(\w+): '/g)].map((m) => m[1])))];
    const byKey: Record<string, string> = { cloudController: 'registry.k8s.io/provider-aws/cloud-controller-manager', clusterAutoscaler: 'registry.k8s.io/autoscaling/cluster-autoscaler', coredns: 'registry.k8s.io/coredns/coredns', etcd: 'etcd-io/etcd' };
    for (const key of keys) {
      expect(byKey[key], `no Renovate manager for ${key} in ${table}`).toBeDefined();
      const expected = rows.map((r) => new RegExp(`${key}: '([^']+)'`).exec(r)?.[1]).filter(Boolean);
      expect(deps.filter((d) => d.file === table && d.depName === byKey[key]).map((d) => d.currentValue), key).toEqual(expected);
    }
  });

  it('holds the cloudnative-pg chart below the one shipping CloudNativePG 1.31 (in-tree barmanObjectStore removed), the pin inside the range', () => {
    const chart = deps.find((d) => d.file === 'packages/k8s-addons/src/releases.ts' && d.depName === 'cloudnative-pg');
    expect(chart?.datasource).toBe('helm');
    const rule = config.packageRules.find((r) => r.matchPackageNames?.includes('cloudnative-pg') && r.allowedVersions !== undefined);
    expect(rule?.matchDatasources).toEqual(['helm']);
    // Chart minors follow operator minors (0.29.x = 1.30): the ceiling is the chart minor after the pin's.
    const ceiling = /^<(\d+)\.(\d+)\.0$/.exec(rule?.allowedVersions ?? '');
    expect(ceiling, `allowedVersions ${rule?.allowedVersions}`).not.toBeNull();
    const [major, minor] = (chart?.currentValue ?? '').split('.').map(Number);
    expect([Number(ceiling![1]), Number(ceiling![2])]).toEqual([major, minor! + 1]);
    expect(readFileSync(join(ROOT, 'packages/k8s-addons/src/releases.ts'), 'utf8')).toContain(`${chart?.currentValue} ships CloudNativePG 1.30.`);
  });

  it('keeps scale day\'s k6 image (tag and digest) fresh', () => {
    const k6 = deps.filter((d) => d.file === 'packages/pipeline/src/operations/scale-day/load-job.ts');
    expect(k6.map((d) => [d.depName, d.currentValue, d.datasource])).toEqual([['grafana/k6', K6_IMAGE.split(':')[1].split('@')[0], 'docker']]);
  });

  it('updates the Terraform CLI of the workflows and keeps the AWS provider literals in the PR of @cdktf/provider-aws', () => {
    expect(deps.filter((d) => d.depName === 'hashicorp/terraform').map((d) => d.currentValue)).toEqual(['1.11.4']);
    const provider = (JSON.parse(readFileSync(join(ROOT, 'node_modules/@cdktf/provider-aws/package.json'), 'utf8')) as { cdktf: { provider: { version: string } } }).cdktf.provider.version;
    const literals = deps.filter((d) => d.depName === 'hashicorp/aws');
    expect(literals.length).toBeGreaterThan(0);
    for (const l of literals) expect(l.currentValue, l.file).toBe(provider);
    const group = config.packageRules.find((r) => r.matchPackageNames?.includes('@cdktf/provider-aws'));
    expect(group?.matchPackageNames).toContain('hashicorp/aws');
  });
});
