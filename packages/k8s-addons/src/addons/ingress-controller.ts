import type { Chart } from 'cdk8s';
import { INGRESS_NODE_PORTS, SCALE_DAY_INGRESS, scaleDayProfileOf } from '@platform/platform-config';
import type { AddOnContext } from '../addon';
import { ownNamespace } from '../private/namespace';
import { TRAEFIK_RELEASE } from '../releases';
import { FAST_EVICTION_SECONDS, fastEvictionTolerations, zoneSpread } from '../scheduling';
import { haScalingProblem, podsPerZone } from '../workloads/ha-scaling';
import { AwsCloudControllerManager } from './cloud-controller';
import { Cilium } from './cilium';
import { HelmAddOn, type HelmAddOnProps } from './helm-addon';
import { MetricsServer } from './metrics-server';

/** One zone's pods at `minReplicas`, but never every pod (a single-zone cluster keeps one). */
function zoneDrainBudget(minReplicas: number, zones: number): number {
  return Math.min(podsPerZone(minReplicas, zones), minReplicas - 1);
}

/** The IngressClass the controller creates (and marks default); Ingresses name it. */
export const TRAEFIK_INGRESS_CLASS = 'traefik';

/**
 * Container ports of the chart's `web` and `websecure` entrypoints (chart defaults, unprivileged
 * so Traefik runs as non-root); the Service maps 80/443 and the NodePorts onto them.
 */
const ENTRYPOINT_PORTS = { web: 8000, websecure: 8443 } as const;

export interface IngressControllerProps extends HelmAddOnProps {
  /** HPA minimum. @default the number of Availability Zones (at least 2) */
  readonly minReplicas: number;
  /** HPA maximum; above the minimum. @default 3 × minReplicas */
  readonly maxReplicas?: number;
  /** HPA target CPU utilisation, percent. @default 70 */
  readonly targetCpuPercent: number;
  /**
   * Pods the PDB lets go at once.
   * @default the pods one zone holds at minReplicas (maxSkew 1), at most minReplicas − 1
   */
  readonly maxUnavailable?: number;
  /** Seconds before pods leave a not-ready/unreachable node. @default FAST_EVICTION_SECONDS (30) */
  readonly tolerationSeconds: number;
  /** CPU request per pod, millicores. @default 100 */
  readonly cpuMillis: number;
  /** Memory request per pod (the limit is twice that), MiB. @default 128 */
  readonly memoryMebibytes: number;
}

/**
 * The ingress controller: Traefik behind the Terraform-owned internet-facing NLB of the
 * cluster (aws-cluster), which targets every worker ASG on platform-config's
 * INGRESS_NODE_PORTS and health-checks HTTP `/ping` on the http NodePort. Hence a NodePort
 * Service with exactly those ports and Traefik's ping served on the `web` entrypoint.
 *
 * Runs with the HA workload pattern: an HPA from one pod per zone, zone spread (maxSkew 1,
 * DoNotSchedule), a PDB that lets one zone's pods be drained, short not-ready/unreachable
 * tolerations, requests, readiness/liveness on `/ping`.
 */
export class IngressController extends HelmAddOn<IngressControllerProps> {
  readonly id = 'traefik';
  readonly layer = 'infra-controllers' as const;
  readonly release = TRAEFIK_RELEASE;
  // The cloud controller sets the zone labels the DoNotSchedule spread needs; the HPA needs metrics-server.
  override readonly dependencies = [Cilium, AwsCloudControllerManager, MetricsServer];

  protected defaults(ctx: AddOnContext): IngressControllerProps {
    const zones = ctx.cluster.availabilityZones.length;
    return {
      minReplicas: Math.max(2, zones),
      targetCpuPercent: 70,
      tolerationSeconds: FAST_EVICTION_SECONDS,
      cpuMillis: 100,
      memoryMebibytes: 128,
      values: {},
    };
  }

  /** Props with the defaults that follow minReplicas filled in. */
  private scaling(props: IngressControllerProps, ctx: AddOnContext) {
    const zones = ctx.cluster.availabilityZones.length;
    return {
      ...props,
      zones,
      maxReplicas: props.maxReplicas ?? 3 * props.minReplicas,
      maxUnavailable: props.maxUnavailable ?? zoneDrainBudget(props.minReplicas, zones),
    };
  }

  protected override check(input: IngressControllerProps, ctx: AddOnContext): void {
    const props = this.scaling(input, ctx);
    const problem = haScalingProblem(props);
    if (problem) this.fail(problem.prop, problem.value, problem.expected);
    // A fixed size cannot absorb the traffic of a lost zone: the HPA must be able to scale out.
    if (props.maxReplicas <= props.minReplicas) this.fail('maxReplicas', props.maxReplicas, `expected more than minReplicas (${props.minReplicas}) so the HPA can scale out`);
    if (props.minReplicas < 2) this.fail('minReplicas', props.minReplicas, 'expected at least 2 (one pod is an outage on every node drain)');
    // Draining a zone (node upgrades, an AZ evacuation) evicts all its pods: the PDB must allow that, yet keep a pod.
    const budget = zoneDrainBudget(props.minReplicas, props.zones);
    if (!Number.isInteger(props.maxUnavailable) || props.maxUnavailable < budget || props.maxUnavailable >= props.minReplicas) {
      this.fail('maxUnavailable', props.maxUnavailable, `expected ${budget} (one zone's pods at minReplicas ${props.minReplicas} over ${props.zones} zones) to ${props.minReplicas - 1}`);
    }
    if (!Number.isInteger(props.cpuMillis) || props.cpuMillis < 10) this.fail('cpuMillis', props.cpuMillis, 'expected a whole number of millicores ≥ 10');
    if (!Number.isInteger(props.memoryMebibytes) || props.memoryMebibytes < 32) this.fail('memoryMebibytes', props.memoryMebibytes, 'expected a whole number of MiB ≥ 32');
  }

  protected override extraObjects(chart: Chart): void {
    ownNamespace(chart, this.release.namespace);
  }

  protected chartValues(input: IngressControllerProps, ctx: AddOnContext): Record<string, unknown> {
    const props = this.scaling(input, ctx);
    // The chart labels pods app.kubernetes.io/instance=<release>-<namespace> unless overridden;
    // pinning it to the release name makes the spread selector below independent of that rule.
    const podLabels = { 'app.kubernetes.io/name': 'traefik', 'app.kubernetes.io/instance': this.release.name };
    // Keep accepting for a while after SIGTERM, until kube-proxy on every node has dropped the pod.
    const lifeCycle = { requestAcceptGraceTimeout: '10s', graceTimeOut: '10s' };
    // Scale day's CPU-costly route (sample-web) lives on an entrypoint only an internal ClusterIP
    // Service exposes: never on the NodePort Service, so the NLB cannot reach it.
    const scaleDay = scaleDayProfileOf(ctx.cluster).cpuConsumer;
    if (scaleDay && this.release.namespace !== SCALE_DAY_INGRESS.namespace) throw new Error(`traefik: namespace ${this.release.namespace} is not SCALE_DAY_INGRESS.namespace (${SCALE_DAY_INGRESS.namespace}), where scale day's load is sent`);
    const internal = { port: SCALE_DAY_INGRESS.port, exposedPort: SCALE_DAY_INGRESS.port, protocol: 'TCP', expose: { default: false, internal: true }, transport: { lifeCycle } };
    return {
      instanceLabelOverride: this.release.name,
      deployment: {
        // Ignored while the HPA is on (the chart then omits spec.replicas): the HPA owns the count.
        replicas: props.minReplicas,
        // Probes hit /ping on the web entrypoint, the same endpoint the NLB checks.
        healthchecksPort: ENTRYPOINT_PORTS.web,
      },
      // The chart always sets --ping; this moves it from the internal `traefik` port to `web`,
      // so `GET /ping` answers on Service port 80 and NodePort INGRESS_NODE_PORTS.http.
      additionalArguments: ['--ping.entrypoint=web'],
      readinessProbe: { periodSeconds: 5, failureThreshold: 2 },
      livenessProbe: { periodSeconds: 10, failureThreshold: 3 },
      ports: {
        web: { port: ENTRYPOINT_PORTS.web, exposedPort: 80, nodePort: INGRESS_NODE_PORTS.http, transport: { lifeCycle } },
        websecure: { port: ENTRYPOINT_PORTS.websecure, exposedPort: 443, nodePort: INGRESS_NODE_PORTS.https, transport: { lifeCycle } },
        ...(scaleDay ? { [SCALE_DAY_INGRESS.entrypoint]: internal } : {}),
      },
      service: {
        type: 'NodePort',
        spec: {
          // Cluster, not Local: the NLB health-checks every worker node, and with Local a node
          // without a Traefik pod fails its check, so the NLB's healthy set would follow pod
          // placement (and a scale-in would flap targets). With Cluster every live node answers
          // /ping by forwarding to a ready pod in any zone; a dead zone's instances fail their
          // checks and leave the NLB within interval × threshold (10 s × 2). Cost: one extra hop
          // and the client source IP is SNATed (Traefik sees a node address).
          externalTrafficPolicy: 'Cluster',
        },
        // `<fullname>-internal` (SCALE_DAY_INGRESS.service): the scale-day entrypoint's only Service.
        ...(scaleDay ? { additionalServices: { internal: { type: 'ClusterIP' } } } : {}),
      },
      autoscaling: {
        enabled: true,
        minReplicas: props.minReplicas,
        maxReplicas: props.maxReplicas,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: props.targetCpuPercent } } }],
      },
      podDisruptionBudget: { enabled: true, maxUnavailable: props.maxUnavailable },
      topologySpreadConstraints: zoneSpread(podLabels),
      tolerations: fastEvictionTolerations(props.tolerationSeconds),
      resources: {
        requests: { cpu: `${props.cpuMillis}m`, memory: `${props.memoryMebibytes}Mi` },
        limits: { memory: `${2 * props.memoryMebibytes}Mi` },
      },
      // Every request to the app passes here: after a zone loss it must win a place on the survivors.
      priorityClassName: 'system-cluster-critical',
      ingressClass: { enabled: true, isDefaultClass: true, name: TRAEFIK_INGRESS_CLASS },
      providers: {
        kubernetesIngress: {
          enabled: true,
          // The NLB is Terraform's; the NodePort Service has no load-balancer address to publish.
          publishedService: { enabled: false },
        },
        kubernetesCRD: { enabled: true },
      },
      // No dashboard route: nothing outside the cluster should reach Traefik's API.
      ingressRoute: { dashboard: { enabled: false } },
      global: { checkNewVersion: false, sendAnonymousUsage: false },
    };
  }
}
