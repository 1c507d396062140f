import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CORE_SCHEMA, load } from 'js-yaml';
import { HaCheckInputError } from '../input-error';
import { isObject, type Json } from './values';

/**
 * Where the upstream charts are stored: `shared/charts/<chart>/<version>/values.yaml` beside the
 * repository (in CI a fresh clone with `shared/` next to it). From this file: packages/ha-check/src/private.
 */
export const DEFAULT_CHARTS_DIR = resolve(__dirname, '..', '..', '..', '..', '..', 'shared', 'charts');

/**
 * The stored charts' default values, each values.yaml read once. A chart ha-check models from its
 * defaults is judged on the version the HelmRelease pins: a missing file is bad input (never the
 * extractor's guess), and so is a release that pins no exact version (Flux installs the latest).
 */
export class StoredCharts {
  private readonly cache = new Map<string, Json>();

  constructor(readonly dir: string = DEFAULT_CHARTS_DIR) {}

  /** `values.yaml` of `<chart>/<version>` (`subchart`: the one under its `charts/`). */
  values(chart: string, version: string, release: string, subchart?: string): Json {
    const file = join(this.dir, chart, version, ...(subchart ? ['charts', subchart] : []), 'values.yaml');
    let values = this.cache.get(file);
    if (values === undefined) {
      if (!existsSync(file)) {
        throw new HaCheckInputError(`${release}: chart ${chart} ${version}${subchart ? ` (subchart ${subchart})` : ''}: no stored default values at ${file}; ha-check reads a chart's defaults from shared/charts/<chart>/<version>/values.yaml beside the repository (store that version there, or pass --charts <dir>)`);
      }
      // The core schema, as for manifests: Helm's YAML reader keeps a timestamp-like value a string.
      const parsed = load(readFileSync(file, 'utf8'), { schema: CORE_SCHEMA });
      values = isObject(parsed) ? parsed : {};
      this.cache.set(file, values);
    }
    return values;
  }
}

let shared: StoredCharts | undefined;
/** The stored charts beside the repository (DEFAULT_CHARTS_DIR), each file read once per process. */
export const sharedStoredCharts = (): StoredCharts => (shared ??= new StoredCharts());

/**
 * A release's values as Helm renders them: coalesced over its chart's stored values.yaml and each
 * subchart's under the subchart's key.
 */
export function renderedValues(charts: StoredCharts, chart: string, version: string, release: string, values: Json, subcharts: readonly string[] = []): Json {
  const defaults: Json = { ...charts.values(chart, version, release) };
  for (const sub of subcharts) defaults[sub] = coalesce(charts.values(chart, version, release, sub), defaults[sub]);
  const out = coalesce(defaults, values);
  return isObject(out) ? out : {};
}

/** An exact chart version (`3.13.0`, `v1.2.3-rc.1`), not a range or `*`. */
export const exactVersion = (v: unknown): v is string => typeof v === 'string' && /^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/.test(v);

/**
 * Helm's coalescing of a release's values over the chart's: maps merge key by key (null deletes a
 * key), anything else (lists, scalars) the release gives replaces the chart's.
 */
export function coalesce(chart: unknown, release: unknown): unknown {
  if (release === undefined) return chart;
  if (!isObject(chart) || !isObject(release)) return release;
  const out: Json = { ...chart };
  for (const [k, v] of Object.entries(release)) {
    if (v === null) delete out[k];
    else out[k] = coalesce(chart[k], v);
  }
  return out;
}
