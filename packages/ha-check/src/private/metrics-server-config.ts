import type { MetricsServerModel } from '../model';
import type { Json } from './values';

/** metrics-server's own `--metric-resolution` default (the binary, without the chart). */
export const METRICS_SERVER_RESOLUTION_SECONDS = 60;

/** The metrics-server chart (3.13) renders `defaultArgs` then `args`; its `defaultArgs` carry `--metric-resolution=15s`. */
const CHART_DEFAULT_ARGS = ['--metric-resolution=15s'];

function resolutionOf(args: readonly unknown[]): number | undefined {
  let found: number | undefined;
  for (const a of args) {
    const m = /^--?metric-resolution[= ](\d+)(s|m)$/.exec(String(a).trim());
    // The flag parser keeps the last occurrence.
    if (m) found = Number(m[1]) * (m[2] === 'm' ? 60 : 1);
  }
  return found;
}

/** From a metrics-server HelmRelease's values: `args` over `defaultArgs` (chart default when unset). */
export function metricsServerFromValues(values: Json, source: string): MetricsServerModel {
  const own = resolutionOf(Array.isArray(values.args) ? values.args : []);
  const defaults = Array.isArray(values.defaultArgs) ? values.defaultArgs : CHART_DEFAULT_ARGS;
  const fromDefaults = resolutionOf(defaults);
  if (own !== undefined) return { source, resolutionSeconds: own, resolutionSource: 'configured' };
  if (fromDefaults !== undefined) return { source, resolutionSeconds: fromDefaults, resolutionSource: Array.isArray(values.defaultArgs) ? 'configured' : 'chart default' };
  return { source, resolutionSeconds: METRICS_SERVER_RESOLUTION_SECONDS, resolutionSource: 'default' };
}

/** From a metrics-server Deployment's container arguments. */
export function metricsServerFromArgs(args: readonly string[], source: string): MetricsServerModel {
  const r = resolutionOf(args);
  return r !== undefined ? { source, resolutionSeconds: r, resolutionSource: 'configured' } : { source, resolutionSeconds: METRICS_SERVER_RESOLUTION_SECONDS, resolutionSource: 'default' };
}

