import type { Chart } from 'cdk8s';
import type { AddOnContext } from '../addon';
import { ownNamespace } from '../private/namespace';
import { KUBE_PROMETHEUS_STACK_RELEASE } from '../releases';
import { fastEvictionTolerations, ZONE_KEY } from '../scheduling';
import { Cilium } from './cilium';
import { EbsCsiDriver, GP3_STORAGE_CLASS } from './ebs-csi';
import { HelmAddOn, type HelmAddOnProps } from './helm-addon';

export interface MonitoringProps extends HelmAddOnProps {
  /** Prometheus replicas (each scrapes everything; zone-spread). @default 2 */
  readonly prometheusReplicas: number;
  /** Alertmanager replicas (gossip cluster; zone-spread). @default 3 */
  readonly alertmanagerReplicas: number;
  /** @default '15d' */
  readonly retention: string;
  /** Prometheus volume per replica. @default '50Gi' */
  readonly storage: string;
}

/** A zone spread for an operator-managed pod set, selecting it by its `app.kubernetes.io/name`. */
function spreadByName(name: string) {
  return [{ maxSkew: 1, topologyKey: ZONE_KEY, whenUnsatisfiable: 'DoNotSchedule', nodeTaintsPolicy: 'Honor', labelSelector: { matchLabels: { 'app.kubernetes.io/name': name } } }];
}

/**
 * PDB values for the chart's Prometheus and Alertmanager: one pod down at a time. The chart
 * defaults `minAvailable: 1` and renders every truthy bound, and a PDB with both bounds is
 * rejected by the API server (failing the whole release), so `minAvailable` is blanked: the
 * template skips an empty value. (null would remove the default too, but cdk8s drops nulls.)
 */
const ONE_AT_A_TIME_PDB = { enabled: true, minAvailable: '', maxUnavailable: 1 } as const;

/**
 * kube-prometheus-stack: Prometheus and Alertmanager replicated across zones on gp3
 * volumes, Grafana, node-exporter and kube-state-metrics (exporting node zone labels so
 * alerts can group by zone). Rules live in MonitoringAlerts (next layer, after the CRDs).
 */
export class Monitoring extends HelmAddOn<MonitoringProps> {
  readonly id = 'monitoring';
  readonly layer = 'infra-controllers' as const;
  readonly release = KUBE_PROMETHEUS_STACK_RELEASE;
  override readonly dependencies = [Cilium, EbsCsiDriver];

  protected defaults(): MonitoringProps {
    return { prometheusReplicas: 2, alertmanagerReplicas: 3, retention: '15d', storage: '50Gi', values: {} };
  }

  protected override check(props: MonitoringProps): void {
    if (!Number.isInteger(props.prometheusReplicas) || props.prometheusReplicas < 2) this.fail('prometheusReplicas', props.prometheusReplicas, 'expected a whole number ≥ 2');
    if (!Number.isInteger(props.alertmanagerReplicas) || props.alertmanagerReplicas < 2) this.fail('alertmanagerReplicas', props.alertmanagerReplicas, 'expected a whole number ≥ 2');
    if (!/^\d+[dhw]$/.test(props.retention)) this.fail('retention', props.retention, 'expected a duration such as 15d');
  }

  protected override extraObjects(chart: Chart): void {
    ownNamespace(chart, this.release.namespace);
  }

  protected chartValues(props: MonitoringProps, _ctx: AddOnContext): Record<string, unknown> {
    const tolerations = fastEvictionTolerations(30);
    return {
      // kubeadm's etcd serves metrics on :2381 (node-bootstrap sets listen-metrics-urls).
      kubeEtcd: { service: { port: 2381, targetPort: 2381 } },
      'kube-state-metrics': { metricLabelsAllowlist: [`nodes=[${ZONE_KEY}]`] },
      prometheus: {
        prometheusSpec: {
          replicas: props.prometheusReplicas,
          retention: props.retention,
          ruleSelectorNilUsesHelmValues: false,
          serviceMonitorSelectorNilUsesHelmValues: false,
          podMonitorSelectorNilUsesHelmValues: false,
          topologySpreadConstraints: spreadByName('prometheus'),
          tolerations,
          storageSpec: { volumeClaimTemplate: { spec: { storageClassName: GP3_STORAGE_CLASS, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: props.storage } } } } },
        },
        podDisruptionBudget: { ...ONE_AT_A_TIME_PDB },
      },
      alertmanager: {
        alertmanagerSpec: { replicas: props.alertmanagerReplicas, topologySpreadConstraints: spreadByName('alertmanager'), tolerations },
        podDisruptionBudget: { ...ONE_AT_A_TIME_PDB },
      },
      grafana: { replicas: 1, tolerations },
    };
  }
}
