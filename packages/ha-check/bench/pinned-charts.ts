import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadAll } from 'js-yaml';

/** The repository this package is in. */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..');

const at = (v: unknown, path: string): unknown => path.split('.').reduce<unknown>((o, k) => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[k] : undefined), v);

let pinned: Map<string, string> | undefined;

/**
 * Chart → version, as the shipped production cluster's HelmReleases pin them (clusters/production,
 * which k8s-addons writes): what the generated clusters install, never retyped.
 */
export function pinnedChartVersions(): ReadonlyMap<string, string> {
  if (pinned) return pinned;
  const files = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : e.name.endsWith('.yaml') ? [join(d, e.name)] : []));
  const out = new Map<string, string>();
  for (const f of files(join(REPO_ROOT, 'clusters', 'production'))) {
    for (const doc of loadAll(readFileSync(f, 'utf8'))) {
      const chart = at(doc, 'spec.chart.spec');
      if (at(doc, 'kind') === 'HelmRelease' && typeof at(chart, 'chart') === 'string' && typeof at(chart, 'version') === 'string') out.set(String(at(chart, 'chart')), String(at(chart, 'version')));
    }
  }
  pinned = out;
  return out;
}
