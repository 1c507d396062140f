import { ApiObject, type Chart } from 'cdk8s';
import { AddOnBase, type AddOnContext } from '../addon';
import { PrometheusRule, PrometheusRuleSpecGroupsRulesExpr } from '../imports/monitoring.coreos.com';
import { FLUX_OPERATOR_RELEASE, KUBE_PROMETHEUS_STACK_RELEASE } from '../releases';
import type { AlertRule } from './monitoring-alerts';
import { Monitoring } from './monitoring';

export interface FluxAlertsProps {
  /** How long a Flux object may stay not ready before it fires (a reconcile with retries takes minutes). @default '15m' */
  readonly notReadyFor: string;
  /** How long an object may stay Unknown (progressing, never finishing) before it counts as stuck. @default '30m' */
  readonly stuckFor: string;
  /** How long an object may stay suspended before someone is reminded. @default '24h' */
  readonly suspendedFor: string;
}

/** `flux_resource_info`: the Flux Operator's metric per Flux object (kind, name, exported_namespace, ready, reason, suspended). */
const INFO = 'flux_resource_info';
const BY = 'kind, exported_namespace, name';

/**
 * The rules, exported so tests and docs read the same expressions. A cluster whose Flux
 * cannot apply what its deploy ref names keeps running the last manifests it applied; these
 * say so instead of leaving it silent.
 */
export function fluxAlerts(): (AlertRule & { readonly forKey: keyof FluxAlertsProps | 'absent' })[] {
  return [
    {
      alert: 'FluxObjectNotReady',
      expr: `max by (${BY}, reason) (${INFO}{ready="False", suspended="false"}) > 0`,
      severity: 'critical',
      summary: 'A Flux object fails to reconcile: the cluster keeps its last applied state (runbook: deploy-refs).',
      forKey: 'notReadyFor',
    },
    {
      alert: 'FluxObjectStuck',
      expr: `max by (${BY}, reason) (${INFO}{ready="Unknown", suspended="false"}) > 0`,
      severity: 'warning',
      summary: 'A Flux object has been reconciling without result for a long time (a health check or dependency that never becomes ready).',
      forKey: 'stuckFor',
    },
    {
      alert: 'FluxObjectSuspended',
      expr: `max by (${BY}) (${INFO}{suspended="true"}) > 0`,
      severity: 'warning',
      summary: 'A Flux object is suspended: changes to it in Git are not applied.',
      forKey: 'suspendedFor',
    },
    {
      alert: 'FluxMetricsAbsent',
      // No Flux Operator metric at all: nothing above can fire, so this must.
      expr: `absent_over_time(${INFO}[15m])`,
      severity: 'warning',
      summary: 'No flux_resource_info metric is scraped: Flux reconcile failures would go unnoticed (is the flux-operator scraped?).',
      forKey: 'absent',
    },
  ];
}

/**
 * Where the Flux Operator serves its metrics: pods labelled `app.kubernetes.io/name:
 * flux-operator`, container port `http-metrics` (8080), as upstream's own deployment and
 * ServiceMonitor (config/manager, config/monitoring of controlplaneio-fluxcd/flux-operator)
 * name them. Prometheus selects every PodMonitor (podMonitorSelectorNilUsesHelmValues: false).
 */
export const FLUX_OPERATOR_METRICS = { podLabels: { 'app.kubernetes.io/name': 'flux-operator' }, port: 'http-metrics' } as const;

/** PrometheusRules for Flux objects that fail, hang or stay suspended, and the scrape of the metric they read. */
export class FluxAlerts extends AddOnBase<FluxAlertsProps> {
  readonly id = 'flux-alerts';
  readonly layer = 'infra-configs' as const;
  override readonly dependencies = [Monitoring];

  protected defaults(): FluxAlertsProps {
    return { notReadyFor: '15m', stuckFor: '30m', suspendedFor: '24h' };
  }

  protected override check(props: FluxAlertsProps): void {
    for (const key of ['notReadyFor', 'stuckFor', 'suspendedFor'] as const) {
      if (!/^\d+[smh]$/.test(props[key])) this.fail(key, props[key], 'expected a duration such as 15m');
    }
  }

  protected render(chart: Chart, props: FluxAlertsProps, ctx: AddOnContext): void {
    new ApiObject(chart, 'OperatorMetrics', {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PodMonitor',
      metadata: { name: 'flux-operator', namespace: FLUX_OPERATOR_RELEASE.namespace },
      spec: {
        selector: { matchLabels: { ...FLUX_OPERATOR_METRICS.podLabels } },
        podMetricsEndpoints: [{ port: FLUX_OPERATOR_METRICS.port, path: '/metrics' }],
      },
    });
    new PrometheusRule(chart, 'Rules', {
      metadata: { name: 'flux', namespace: KUBE_PROMETHEUS_STACK_RELEASE.namespace },
      spec: {
        groups: [
          {
            name: 'flux',
            rules: fluxAlerts().map((r) => ({
              alert: r.alert,
              expr: PrometheusRuleSpecGroupsRulesExpr.fromString(r.expr),
              for: r.forKey === 'absent' ? '5m' : props[r.forKey],
              labels: { severity: r.severity, cluster: ctx.cluster.name },
              annotations: { summary: r.summary },
            })),
          },
        ],
      },
    });
  }
}
