import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

/** The repository root (packages/k8s-addons/test/support → four levels up). */
export const REPO_ROOT = resolve(__dirname, '../../../..');

/**
 * Upstream chart defaults beside the repository (`../shared/charts/<chart>/<version>/`, in CI
 * a copy of shared/ next to the fresh clone). Missing: throw, never pass silently.
 */
export const CHARTS_DIR = resolve(REPO_ROOT, '../shared/charts');

export function chartDir(chart: string, version: string): string {
  if (!existsSync(CHARTS_DIR)) throw new Error(`chart defaults folder ${CHARTS_DIR} is missing: shared/ must sit beside the repository`);
  return join(CHARTS_DIR, chart, version);
}

export type Values = Record<string, unknown>;

export const isMap = (v: unknown): v is Values => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The chart's values.yaml; throws naming the folder to add when the version is not there. */
export function chartDefaults(chart: string, version: string): Values {
  const file = join(chartDir(chart, version), 'values.yaml');
  if (!existsSync(file)) throw new Error(`no defaults for chart ${chart} ${version}: add ${join(CHARTS_DIR, chart, version)}/ (values.yaml, and values.schema.json where the chart ships one)`);
  return (parse(readFileSync(file, 'utf8')) ?? {}) as Values;
}

/**
 * Helm's coalescing of user values over chart defaults: maps merge key by key, anything else
 * (lists included) replaces the default; `null` deletes the key.
 */
export function helmMerge(defaults: unknown, values: unknown): unknown {
  if (!isMap(defaults) || !isMap(values)) return values === undefined ? defaults : values;
  const out: Values = { ...defaults };
  for (const [key, value] of Object.entries(values)) {
    if (value === null) delete out[key];
    else out[key] = helmMerge(defaults[key], value);
  }
  return out;
}
