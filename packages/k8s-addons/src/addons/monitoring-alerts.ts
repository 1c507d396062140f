import { ETCD_SNAPSHOT_METRIC, type ClusterDefinition } from '@platform/platform-config';
import type { Chart } from 'cdk8s';
import { AddOnBase, type AddOnContext } from '../addon';
import { PrometheusRule, PrometheusRuleSpecGroupsRulesExpr } from '../imports/monitoring.coreos.com';
import { KUBE_PROMETHEUS_STACK_RELEASE } from '../releases';
import { Monitoring } from './monitoring';

export interface MonitoringAlertsProps {
  /** How long a condition must hold before it fires. @default '5m' */
  readonly for: string;
  /** Ready-node difference between the fullest and emptiest zone that counts as imbalance. @default 2 */
  readonly zoneImbalanceNodes: number;
}

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly severity: 'critical' | 'warning';
  readonly summary: string;
}

const ZONE = 'label_topology_kubernetes_io_zone';
const NOT_READY_BY_NODE = `(kube_node_status_condition{condition="Ready",status="true"} == 0) * on(node) group_left(${ZONE}) kube_node_labels`;
/** 1 per Ready node, 0 per other node, with its zone: a zone whose nodes are all down still counts (as 0). */
const READY_BY_NODE = `kube_node_status_condition{condition="Ready",status="true"} * on(node) group_left(${ZONE}) kube_node_labels`;
const ETCD_UP = 'up{job="kube-etcd"}';

/**
 * Seconds after which the newest etcd snapshot counts as stale: two intervals, so one missed or
 * slow run (a leader change, an upload retry) does not fire, and a leader that stopped uploading does.
 */
export function etcdSnapshotStaleSeconds(backups: Pick<ClusterDefinition['backups'], 'etcdSnapshotIntervalMinutes'>): number {
  return 2 * backups.etcdSnapshotIntervalMinutes * 60;
}

/** The platform's availability alerts, exported so tests and docs read the same expressions. */
export function availabilityAlerts(props: MonitoringAlertsProps, backups: Pick<ClusterDefinition['backups'], 'etcdSnapshotIntervalMinutes'>): AlertRule[] {
  const stale = etcdSnapshotStaleSeconds(backups);
  const metric = ETCD_SNAPSHOT_METRIC.name;
  return [
    { alert: 'EtcdNoLeader', expr: 'etcd_server_has_leader{job="kube-etcd"} == 0', severity: 'critical', summary: 'An etcd member has no leader: the control plane cannot write.' },
    {
      alert: 'EtcdQuorumAtRisk',
      // Live members against the member count Prometheus scrapes; `or vector(0)`: no live member at all is at risk too.
      expr: `(count(${ETCD_UP} == 1) or vector(0)) <= floor(count(${ETCD_UP}) / 2) + 1 and count(${ETCD_UP}) > 1`,
      severity: 'critical',
      summary: 'etcd has only a bare quorum: one more member lost stops the control plane.',
    },
    { alert: 'NodesNotReadyInZone', expr: `count by (${ZONE}) (${NOT_READY_BY_NODE}) > 0`, severity: 'warning', summary: 'Nodes in one zone are not Ready (zone failure?).' },
    { alert: 'PodsUnschedulable', expr: 'sum by (namespace) (kube_pod_status_unschedulable) > 0', severity: 'warning', summary: 'Pods cannot be scheduled: capacity or spread constraints.' },
    {
      alert: 'ZoneImbalance',
      expr: `max(sum by (${ZONE}) (${READY_BY_NODE})) - min(sum by (${ZONE}) (${READY_BY_NODE})) >= ${props.zoneImbalanceNodes}`,
      severity: 'warning',
      summary: 'Ready nodes differ between zones: losing the fullest zone costs more than its share.',
    },
    {
      alert: 'EtcdSnapshotStale',
      // Only the etcd leader uploads, each on its own node (etcd-snapshot.sh's textfile): the newest
      // of them counts. No node exporting it for the same window (a leader that never uploaded,
      // every control-plane node replaced) is stale too.
      expr: `time() - max(${metric}) > ${stale} or absent_over_time(${metric}[${stale / 60}m])`,
      severity: 'warning',
      summary: `No etcd snapshot uploaded for ${stale / 60} minutes (2 snapshot intervals): a restore would lose everything since (runbook: etcd-restore).`,
    },
  ];
}

/** PrometheusRules for etcd quorum and snapshot freshness, nodes not ready per zone, unschedulable pods and zone imbalance. */
export class MonitoringAlerts extends AddOnBase<MonitoringAlertsProps> {
  readonly id = 'monitoring-alerts';
  readonly layer = 'infra-configs' as const;
  override readonly dependencies = [Monitoring];

  protected defaults(): MonitoringAlertsProps {
    return { for: '5m', zoneImbalanceNodes: 2 };
  }

  protected override check(props: MonitoringAlertsProps): void {
    if (!/^\d+[smh]$/.test(props.for)) this.fail('for', props.for, 'expected a duration such as 5m');
    if (!Number.isInteger(props.zoneImbalanceNodes) || props.zoneImbalanceNodes < 1) this.fail('zoneImbalanceNodes', props.zoneImbalanceNodes, 'expected a whole number ≥ 1');
  }

  protected render(chart: Chart, props: MonitoringAlertsProps, ctx: AddOnContext): void {
    new PrometheusRule(chart, 'Rules', {
      metadata: { name: 'platform-availability', namespace: KUBE_PROMETHEUS_STACK_RELEASE.namespace },
      spec: {
        groups: [
          {
            name: 'platform-availability',
            rules: availabilityAlerts(props, ctx.cluster.backups).map((r) => ({
              alert: r.alert,
              expr: PrometheusRuleSpecGroupsRulesExpr.fromString(r.expr),
              for: props.for,
              labels: { severity: r.severity, cluster: ctx.cluster.name },
              annotations: { summary: r.summary },
            })),
          },
        ],
      },
    });
  }
}
