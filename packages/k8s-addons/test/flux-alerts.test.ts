import { defaultPlatform } from '@platform/platform-config';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { addOnContext, FluxAlerts, fluxAlerts, synthClusterTree } from '../src';

/** The Flux alerts: one PrometheusRule per cluster on the Flux Operator's flux_resource_info. */

const platform = defaultPlatform();

describe('flux-alerts', () => {
  it.each(platform.clusters.map((c) => c.name))('%s: rules for failing, stuck and suspended Flux objects, and for their metric missing', (cluster) => {
    const file = synthClusterTree(platform, cluster)['infrastructure/configs/flux-alerts.yaml'];
    expect(file).toBeDefined();
    const [rule] = parseAllDocuments(file!).map((d) => d.toJS() as { kind: string; metadata: { namespace: string }; spec: { groups: { rules: { alert: string; expr: string; for: string; labels: Record<string, string> }[] }[] } });
    expect(rule.kind).toBe('PrometheusRule');
    expect(rule.metadata.namespace).toBe('monitoring');
    const rules = rule.spec.groups[0].rules;
    expect(rules.map((r) => [r.alert, r.for, r.labels.severity])).toEqual([
      ['FluxObjectNotReady', '15m', 'critical'],
      ['FluxObjectStuck', '30m', 'warning'],
      ['FluxObjectSuspended', '24h', 'warning'],
      ['FluxMetricsAbsent', '15m', 'warning'],
    ]);
    for (const r of rules) expect(r.labels.cluster).toBe(cluster);
    // A suspended object is reported once, as suspended, not also as failing.
    expect(rules[0].expr).toContain('suspended="false"');
  });

  it('groups by the object (kind, namespace, name), so one failing Kustomization is one alert', () => {
    expect(fluxAlerts()[0].expr).toBe('max by (kind, exported_namespace, name, reason) (flux_resource_info{ready="False", suspended="false"}) > 0');
  });

  it('rejects a duration that is not one', () => {
    expect(() => new FluxAlerts({ stuckFor: 'half an hour' }).validate(addOnContext(platform, 'production'))).toThrow('flux-alerts: stuckFor is "half an hour"; expected a duration such as 15m');
  });
});
