import { ALERT_RECEIVER_SECRET, ETCD_METRICS_PORT, NODE_EXPORTER_PORT, NODE_EXPORTER_TEXTFILE_DIR } from '@platform/platform-config';
import type { Chart } from 'cdk8s';
import type { AddOnContext } from '../addon';
import { ownNamespace } from '../private/namespace';
import { KUBE_PROMETHEUS_STACK_RELEASE } from '../releases';
import { FAST_EVICTION_SECONDS, fastEvictionTolerations, ZONE_KEY } from '../scheduling';
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
  /**
   * How Alertmanager notifies: `webhook` POSTs Alertmanager's JSON to each URL, `slack` posts to
   * Slack incoming-webhook URLs. The URLs come from the Secret `ALERT_RECEIVER_SECRET`
   * (platform-config), made by an operator. @default 'webhook'
   */
  readonly receiver: AlertReceiverKind;
}

export const ALERT_RECEIVER_KINDS = ['webhook', 'slack'] as const;
export type AlertReceiverKind = (typeof ALERT_RECEIVER_KINDS)[number];

/** Where the operator mounts the receiver Secret in the Alertmanager pods. */
const RECEIVER_MOUNT = `/etc/alertmanager/receivers`;

/**
 * kubeadm binds kube-controller-manager's and kube-scheduler's metrics to 127.0.0.1 and
 * kube-proxy's to 127.0.0.1:10249, so Prometheus can never scrape them: their
 * ServiceMonitors would only produce permanently firing critical `*Down` alerts (the chart's
 * rules). Their scrapes and rules are off; their health is covered by the API server
 * (leader-elected controllers stop reconciling visibly: Pending pods, PodsUnschedulable) and by
 * node-bootstrap's static-pod health checks. Binding them to the node IP would expose
 * unauthenticated-by-default debug endpoints on every control-plane node for little gain.
 */
const UNSCRAPABLE_COMPONENTS = { kubeControllerManager: { enabled: false }, kubeScheduler: { enabled: false }, kubeProxy: { enabled: false } } as const;
const UNSCRAPABLE_COMPONENT_RULES = { kubeControllerManager: false, kubeSchedulerAlerting: false, kubeSchedulerRecording: false, kubeProxy: false } as const;

/**
 * Alertmanager's routing: one notification per cluster and alert name, critical alerts to the
 * `critical` URL and re-sent hourly, warnings to the `warning` URL every 4 hours; the chart's
 * always-firing Watchdog and InfoInhibitor (and anything without a known severity) go nowhere;
 * Flux's failed-reconciliation events (severity `error`) go to the warning URL.
 * A critical alert silences the warning of the same name in the same place.
 */
export function alertmanagerConfig(kind: AlertReceiverKind): Record<string, unknown> {
  const receiver = (severity: keyof typeof ALERT_RECEIVER_SECRET.keys) => {
    const file = `${RECEIVER_MOUNT}/${ALERT_RECEIVER_SECRET.keys[severity]}`;
    return kind === 'slack'
      ? { name: severity, slack_configs: [{ api_url_file: file, send_resolved: true, title: '[{{ .Status | toUpper }}] {{ .CommonLabels.cluster }}: {{ .CommonLabels.alertname }}', text: '{{ range .Alerts }}{{ .Annotations.summary }}{{ .Annotations.description }}\n{{ end }}' }] }
      : { name: severity, webhook_configs: [{ url_file: file, send_resolved: true }] };
  };
  return {
    route: {
      receiver: 'null',
      group_by: ['cluster', 'alertname'],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '12h',
      routes: [
        { receiver: 'null', matchers: ['alertname =~ "Watchdog|InfoInhibitor"'] },
        { receiver: 'critical', matchers: ['severity = "critical"'], repeat_interval: '1h' },
        { receiver: 'warning', matchers: ['severity = "warning"'], repeat_interval: '4h' },
        // Flux's alertmanager Provider posts failed reconciliations with the event's severity,
        // `error` (flux-notifications): at once to the warning receiver; FluxObjectNotReady
        // pages (critical) if the object stays failed.
        { receiver: 'warning', matchers: ['severity = "error"'], repeat_interval: '4h' },
      ],
    },
    receivers: [{ name: 'null' }, receiver('critical'), receiver('warning')],
    inhibit_rules: [{ source_matchers: ['severity = "critical"'], target_matchers: ['severity = "warning"'], equal: ['cluster', 'alertname', 'namespace'] }],
  };
}

/** A zone spread for an operator-managed pod set, selecting it by its `app.kubernetes.io/name`. */
function spreadByName(name: string) {
  return [{ maxSkew: 1, topologyKey: ZONE_KEY, whenUnsatisfiable: 'DoNotSchedule', nodeTaintsPolicy: 'Honor', labelSelector: { matchLabels: { 'app.kubernetes.io/name': name } } }];
}

/** Where node-exporter sees the host's textfile directory (read-only). */
const TEXTFILE_MOUNT = '/host/textfile';

/**
 * node-exporter arguments. Helm replaces lists, so the chart's own two filesystem filters
 * (kube-prometheus-stack's values.yaml) are repeated before the textfile directory.
 */
export const NODE_EXPORTER_ARGS = [
  '--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|var/lib/docker/.+|var/lib/kubelet/.+)($|/)',
  '--collector.filesystem.fs-types-exclude=^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$',
  `--collector.textfile.directory=${TEXTFILE_MOUNT}`,
] as const;

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
    return { prometheusReplicas: 2, alertmanagerReplicas: 3, retention: '15d', storage: '50Gi', receiver: 'webhook', values: {} };
  }

  protected override check(props: MonitoringProps): void {
    if (!Number.isInteger(props.prometheusReplicas) || props.prometheusReplicas < 2) this.fail('prometheusReplicas', props.prometheusReplicas, 'expected a whole number ≥ 2');
    if (!Number.isInteger(props.alertmanagerReplicas) || props.alertmanagerReplicas < 2) this.fail('alertmanagerReplicas', props.alertmanagerReplicas, 'expected a whole number ≥ 2');
    if (!/^\d+[dhw]$/.test(props.retention)) this.fail('retention', props.retention, 'expected a duration such as 15d');
    if (!ALERT_RECEIVER_KINDS.includes(props.receiver)) this.fail('receiver', props.receiver, `expected one of ${ALERT_RECEIVER_KINDS.join(', ')}`);
  }

  protected override extraObjects(chart: Chart): void {
    ownNamespace(chart, this.release.namespace);
  }

  protected chartValues(props: MonitoringProps, ctx: AddOnContext): Record<string, unknown> {
    const tolerations = fastEvictionTolerations(FAST_EVICTION_SECONDS);
    return {
      // etcd's plain-HTTP metrics listener (node-bootstrap sets listen-metrics-urls; the
      // control-plane security group admits it): the client port 2379 needs client certificates.
      kubeEtcd: { service: { port: ETCD_METRICS_PORT, targetPort: ETCD_METRICS_PORT }, serviceMonitor: { scheme: 'http' } },
      ...UNSCRAPABLE_COMPONENTS,
      defaultRules: { rules: { ...UNSCRAPABLE_COMPONENT_RULES } },
      // The node security groups open exactly this port (platform-config) to the workers.
      'prometheus-node-exporter': {
        service: { port: NODE_EXPORTER_PORT, targetPort: NODE_EXPORTER_PORT },
        // Host scripts' metrics (etcd-snapshot.sh's last upload, platform-config
        // ETCD_SNAPSHOT_METRIC); DirectoryOrCreate: workers have no writer, the pod still starts.
        extraArgs: [...NODE_EXPORTER_ARGS],
        extraHostVolumeMounts: [{ name: 'textfile', hostPath: NODE_EXPORTER_TEXTFILE_DIR, type: 'DirectoryOrCreate', mountPath: TEXTFILE_MOUNT, readOnly: true }],
      },
      // One replica: every replica would export every series, doubling the sums alerts use
      // (the chart's sharding is a StatefulSet with its own trade-offs). Monitoring only.
      'kube-state-metrics': { metricLabelsAllowlist: [`nodes=[${ZONE_KEY}]`], tolerations },
      // The operator is not leader-elected (the chart runs one); it only reconciles, and the
      // Prometheus and Alertmanager pods it made keep running while it is rescheduled.
      prometheusOperator: { tolerations },
      prometheus: {
        prometheusSpec: {
          // Every alert (the chart's too) carries the cluster, which Alertmanager groups by.
          externalLabels: { cluster: ctx.cluster.name },
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
        config: alertmanagerConfig(props.receiver),
        alertmanagerSpec: {
          replicas: props.alertmanagerReplicas,
          topologySpreadConstraints: spreadByName('alertmanager'),
          tolerations,
          // optional: Alertmanager starts (and the release gets Ready) before the operator makes
          // the Secret; the kubelet adds the files once it exists.
          volumes: [{ name: 'receivers', secret: { secretName: ALERT_RECEIVER_SECRET.name, optional: true } }],
          volumeMounts: [{ name: 'receivers', mountPath: RECEIVER_MOUNT, readOnly: true }],
        },
        podDisruptionBudget: { ...ONE_AT_A_TIME_PDB },
      },
      // One replica on purpose: Grafana keeps users, sessions and settings in its SQLite file per
      // pod, so a second replica would log users out at random. Dashboards only (ha-check says so).
      grafana: { replicas: 1, tolerations },
    };
  }
}
