/* eslint-disable @typescript-eslint/no-explicit-any -- walks parsed YAML */
import { defaultPlatform } from '@platform/platform-config';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { addOnContext, FluxAlerts, fluxAlerts, synthClusterTree } from '../src';
import { evaluate, type Sample } from './promql';

/** The Flux alerts: one PrometheusRule per cluster on the Flux Operator's flux_resource_info. */

const platform = defaultPlatform();

describe('flux-alerts', () => {
  it.each(platform.clusters.map((c) => c.name))('%s: rules for failing, stuck and suspended Flux objects, and for their metric missing', (cluster) => {
    const file = synthClusterTree(platform, cluster)['infrastructure/configs/flux-alerts.yaml'];
    expect(file).toBeDefined();
    const objects = parseAllDocuments(file!).map((d) => d.toJS() as { kind: string; metadata: { namespace: string }; spec: any });
    const rule = objects.find((o) => o.kind === 'PrometheusRule')!;
    // The metric the rules read is scraped: the operator's pods, their metrics port.
    expect(objects.find((o) => o.kind === 'PodMonitor')?.spec).toEqual({ selector: { matchLabels: { 'app.kubernetes.io/name': 'flux-operator' } }, podMetricsEndpoints: [{ port: 'http-metrics', path: '/metrics' }] });
    expect(rule.metadata.namespace).toBe('monitoring');
    const rules: { alert: string; expr: string; for: string; labels: Record<string, string> }[] = rule.spec.groups[0].rules;
    expect(rules.map((r) => [r.alert, r.for, r.labels.severity])).toEqual([
      ['FluxObjectNotReady', '15m', 'critical'],
      ['FluxObjectStuck', '30m', 'warning'],
      ['FluxObjectSuspended', '24h', 'warning'],
      ['FluxMetricsAbsent', '5m', 'warning'],
    ]);
    for (const r of rules) expect(r.labels.cluster).toBe(cluster);
    // A suspended object is reported once, as suspended, not also as failing.
    expect(rules[0].expr).toContain('suspended="false"');
  });

  /** flux_resource_info as the operator exports it: value 1, state in the labels. */
  const info = (kind: string, name: string, ready: 'True' | 'False' | 'Unknown', suspended: 'true' | 'false' = 'false', reason = 'ReconciliationSucceeded'): Sample => ({
    labels: { __name__: 'flux_resource_info', kind, name, exported_namespace: 'flux-system', ready, suspended, reason, job: 'flux-operator' },
    value: 1,
  });
  const fired = (alert: string, series: Sample[]) => evaluate(fluxAlerts().find((a) => a.alert === alert)!.expr, series).map((s) => s.labels.name);

  it('fires for the failing object only, once per object, and not for a suspended one', () => {
    const series = [info('Kustomization', 'apps', 'False', 'false', 'HealthCheckFailed'), info('Kustomization', 'infra-configs', 'True'), info('HelmRelease', 'traefik', 'False', 'true', 'InstallFailed')];
    expect(fired('FluxObjectNotReady', series)).toEqual(['apps']);
    expect(fired('FluxObjectSuspended', series)).toEqual(['traefik']);
    expect(fired('FluxObjectStuck', series)).toEqual([]);
    expect(fired('FluxObjectStuck', [info('GitRepository', 'flux-system', 'Unknown', 'false', 'Progressing')])).toEqual(['flux-system']);
  });

  it('says so when the metric is missing altogether, and not while it is there', () => {
    expect(evaluate(fluxAlerts().find((a) => a.alert === 'FluxMetricsAbsent')!.expr, [])).toHaveLength(1);
    expect(evaluate(fluxAlerts().find((a) => a.alert === 'FluxMetricsAbsent')!.expr, [info('Kustomization', 'apps', 'True')])).toHaveLength(0);
  });

  it('rejects a duration that is not one', () => {
    expect(() => new FluxAlerts({ stuckFor: 'half an hour' }).validate(addOnContext(platform, 'production'))).toThrow('flux-alerts: stuckFor is "half an hour"; expected a duration such as 15m');
  });
});
