import { gitRepositoryUrl } from '@platform/core-addons';
import type { Chart } from 'cdk8s';
import { AddOnBase, type AddOnContext } from '../addon';
import { Flux } from '../addons/flux';
import { Monitoring } from '../addons/monitoring';
import {
  AWS_CLOUD_CONTROLLER_RELEASE,
  CILIUM_RELEASE,
  CLOUDNATIVE_PG_RELEASE,
  CLUSTER_AUTOSCALER_RELEASE,
  EBS_CSI_RELEASE,
  FLUX_NAMESPACE,
  FLUX_OPERATOR_RELEASE,
  KUBE_PROMETHEUS_STACK_RELEASE,
  METRICS_SERVER_RELEASE,
  TRAEFIK_RELEASE,
} from '../releases';
import { FluxAlert, FluxProvider, type FluxEventSource, type FluxEventSourceKind } from './notification';

/**
 * The Secret (in FLUX_NAMESPACE) holding the GitHub token of the commit-status Provider, key
 * `token`. Made by hand on each cluster, never in Git (packages/pipeline README, one-time
 * setup; docs/runbooks/alert-receivers.md).
 */
export const FLUX_COMMIT_STATUS_SECRET = 'github-commit-status';

/**
 * kube-prometheus-stack's Alertmanager Service (`<release>-alertmanager`, the chart's default
 * port 9093 and route prefix `/`): the v2 alerts API the alertmanager Provider posts to.
 */
export function alertmanagerAlertsUrl(): string {
  return `http://${KUBE_PROMETHEUS_STACK_RELEASE.name}-alertmanager.${KUBE_PROMETHEUS_STACK_RELEASE.namespace}.svc:9093/api/v2/alerts/`;
}

/** Every namespace holding a Flux object of ours: FLUX_NAMESPACE and each release's. */
export function fluxObjectNamespaces(): string[] {
  const releases = [CILIUM_RELEASE, AWS_CLOUD_CONTROLLER_RELEASE, FLUX_OPERATOR_RELEASE, EBS_CSI_RELEASE, CLUSTER_AUTOSCALER_RELEASE, METRICS_SERVER_RELEASE, KUBE_PROMETHEUS_STACK_RELEASE, CLOUDNATIVE_PG_RELEASE, TRAEFIK_RELEASE];
  return [...new Set([FLUX_NAMESPACE, ...releases.map((r) => r.namespace)])].sort();
}

/** Kinds whose failed reconciliations are alerted: what applies manifests, and where they come from. */
export const FAILURE_ALERT_KINDS: readonly FluxEventSourceKind[] = ['Kustomization', 'HelmRelease', 'GitRepository', 'OCIRepository'];

export interface FluxNotificationsProps {
  /** Secret with the GitHub token (key `token`) of the commit-status Provider. @default FLUX_COMMIT_STATUS_SECRET */
  readonly commitStatusSecret: string;
  /** Alertmanager's v2 alerts URL. @default alertmanagerAlertsUrl() */
  readonly alertmanagerAddress: string;
  /** Namespaces whose Flux objects are watched. @default fluxObjectNamespaces() */
  readonly namespaces: readonly string[];
}

/**
 * Flux reports back: every Kustomization sets a GitHub commit status on the commit it applied
 * (so each commit shows, per cluster and layer, whether it reconciled), and every failed
 * reconciliation of a Kustomization, HelmRelease, GitRepository or OCIRepository becomes an
 * Alertmanager alert labelled with the cluster, routed like every other alert. The
 * notification-controller is one of the FluxInstance's components (core-addons FLUX_COMPONENTS).
 */
export class FluxNotifications extends AddOnBase<FluxNotificationsProps> {
  readonly id = 'flux-notifications';
  // After the controllers: Alertmanager (infra-controllers) must exist to receive.
  readonly layer = 'infra-configs' as const;
  override readonly dependencies = [Flux, Monitoring];

  protected defaults(): FluxNotificationsProps {
    return { commitStatusSecret: FLUX_COMMIT_STATUS_SECRET, alertmanagerAddress: alertmanagerAlertsUrl(), namespaces: fluxObjectNamespaces() };
  }

  protected override check(props: FluxNotificationsProps): void {
    if (props.namespaces.length === 0) this.fail('namespaces', props.namespaces, 'expected at least one namespace');
  }

  protected render(chart: Chart, props: FluxNotificationsProps, ctx: AddOnContext): void {
    const github = new FluxProvider(chart, 'GithubProvider', {
      name: 'github-commit-status',
      namespace: FLUX_NAMESPACE,
      type: 'github',
      address: gitRepositoryUrl(ctx.platform.settings).replace(/\.git$/, ''),
      secretRef: props.commitStatusSecret,
      gitRepositoryUrl: gitRepositoryUrl(ctx.platform.settings),
    });
    const alertmanager = new FluxProvider(chart, 'AlertmanagerProvider', { name: 'alertmanager', namespace: FLUX_NAMESPACE, type: 'alertmanager', address: props.alertmanagerAddress });
    const everywhere = (kinds: readonly FluxEventSourceKind[]): FluxEventSource[] => kinds.flatMap((kind) => props.namespaces.map((namespace) => ({ kind, name: '*', namespace })));
    // info: the status needs the success events too, or a fixed commit would stay red.
    new FluxAlert(chart, 'CommitStatus', { name: 'commit-status', provider: github, eventSeverity: 'info', eventSources: [{ kind: 'Kustomization', name: '*', namespace: FLUX_NAMESPACE }] });
    new FluxAlert(chart, 'ReconcileFailures', {
      name: 'reconcile-failures',
      provider: alertmanager,
      eventSeverity: 'error',
      eventSources: everywhere(FAILURE_ALERT_KINDS),
      // Labels of the alert (the Alertmanager provider sends metadata as labels, `summary` as an
      // annotation; it sets `severity` to the event's, `error`, itself): grouped by cluster.
      eventMetadata: { cluster: ctx.cluster.name, summary: `Flux could not reconcile on ${ctx.cluster.name}: it keeps the last applied state (runbook: deploy-refs)` },
    });
  }
}
