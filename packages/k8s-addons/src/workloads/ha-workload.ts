import { ApiObject, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { FAST_EVICTION_SECONDS, fastEvictionTolerations, zoneSpread } from '../scheduling';
import { haScalingProblem } from './ha-scaling';

/** cdk8s-plus labels pods with their construct address; selectors here use our own labels instead. */
export function removeAddressLabel(workload: ApiObject): void {
  workload.addJsonPatch(JsonPatch.remove('/spec/template/metadata/labels/cdk8s.io~1metadata.addr'));
}

export interface HaWorkloadProps {
  readonly namespace: string;
  readonly image: string;
  /** Port the container serves HTTP on. */
  readonly port: number;
  /** Zones the cluster spans; the replica floor and the spread follow them. */
  readonly availabilityZones: readonly string[];
  /** Replicas at least (HPA minimum). @default the number of zones */
  readonly minReplicas?: number;
  /** @default 3 × minReplicas */
  readonly maxReplicas?: number;
  /** HPA target CPU utilisation, percent. @default 70 */
  readonly targetCpuPercent?: number;
  /** @default 100 millicores */
  readonly cpuMillis?: number;
  /** @default 128 MiB */
  readonly memoryMebibytes?: number;
  /** @default no CPU limit */
  readonly cpuLimitMillis?: number;
  /** @default 2 × memoryMebibytes */
  readonly memoryLimitMebibytes?: number;
  /** HTTP readiness path. @default '/' */
  readonly readinessPath?: string;
  /** Seconds before pods leave a not-ready/unreachable node (default 300 in Kubernetes). @default 30 */
  readonly tolerationSeconds?: number;
  /** Extra container args. @default [] */
  readonly args?: string[];
}

/**
 * The HA workload pattern: a Deployment with replicas ≥ zones and a zone topology spread
 * (maxSkew 1; scales past the zone count, unlike cdk8s-plus `spread()`), a PDB allowing one
 * pod down, a CPU HPA, readiness and liveness probes, resource requests and short
 * not-ready/unreachable tolerations so pods leave a dead zone fast; non-root, read-only root
 * file system, RuntimeDefault seccomp, every capability dropped. The HPA owns the replica
 * count, so the Deployment omits `spec.replicas` (Flux would otherwise reset it).
 */
export class HaWorkload extends Construct {
  readonly deployment: kplus.Deployment;
  readonly service: kplus.Service;
  readonly labels: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: HaWorkloadProps) {
    super(scope, id);
    const zones = props.availabilityZones.length;
    const minReplicas = props.minReplicas ?? zones;
    const maxReplicas = props.maxReplicas ?? 3 * minReplicas;
    const tolerationSeconds = props.tolerationSeconds ?? FAST_EVICTION_SECONDS;
    const targetCpuPercent = props.targetCpuPercent ?? 70;
    const problem = haScalingProblem({ zones, minReplicas, maxReplicas, tolerationSeconds, targetCpuPercent });
    if (problem) throw new Error(`${id}: ${problem.prop} is ${JSON.stringify(problem.value)}; ${problem.expected}`);

    const name = id;
    this.labels = { 'app.kubernetes.io/name': name };
    const metadata = { name, namespace: props.namespace, labels: { ...this.labels } };
    this.deployment = new kplus.Deployment(this, 'Deployment', {
      metadata,
      select: false,
      podMetadata: { labels: { ...this.labels } },
      securityContext: { ensureNonRoot: true },
      containers: [
        {
          name,
          image: props.image,
          // A digest names immutable content: pulling again only adds a registry (and its rate limits)
          // to every scale-out and every AZ-loss reschedule. A tag may move, so it is checked.
          imagePullPolicy: props.image.includes('@sha256:') ? kplus.ImagePullPolicy.IF_NOT_PRESENT : kplus.ImagePullPolicy.ALWAYS,
          args: props.args,
          ports: [{ number: props.port, name: 'http' }],
          readiness: kplus.Probe.fromHttpGet(props.readinessPath ?? '/', { port: props.port, periodSeconds: Duration.seconds(5), failureThreshold: 2 }),
          liveness: kplus.Probe.fromHttpGet(props.readinessPath ?? '/', { port: props.port, periodSeconds: Duration.seconds(10), failureThreshold: 3 }),
          resources: {
            cpu: { request: kplus.Cpu.millis(props.cpuMillis ?? 100), ...(props.cpuLimitMillis === undefined ? {} : { limit: kplus.Cpu.millis(props.cpuLimitMillis) }) },
            memory: { request: Size.mebibytes(props.memoryMebibytes ?? 128), limit: Size.mebibytes(props.memoryLimitMebibytes ?? 2 * (props.memoryMebibytes ?? 128)) },
          },
          securityContext: { user: 65532, group: 65532 },
        },
      ],
    });
    this.deployment.select(kplus.LabelSelector.of({ labels: { ...this.labels } }));
    const pod = ApiObject.of(this.deployment);
    pod.addJsonPatch(JsonPatch.add('/spec/template/spec/topologySpreadConstraints', zoneSpread(this.labels)));
    pod.addJsonPatch(JsonPatch.add('/spec/template/spec/tolerations', fastEvictionTolerations(tolerationSeconds)));
    // The runtime's default seccomp filter and no Linux capability: an HTTP server on an unprivileged port needs neither.
    pod.addJsonPatch(JsonPatch.add('/spec/template/spec/securityContext/seccompProfile', { type: 'RuntimeDefault' }));
    pod.addJsonPatch(JsonPatch.add('/spec/template/spec/containers/0/securityContext/capabilities', { drop: ['ALL'] }));
    removeAddressLabel(pod);

    this.service = new kplus.Service(this, 'Service', {
      metadata,
      ports: [{ port: 80, targetPort: props.port, name: 'http' }],
    });
    this.service.selectLabel('app.kubernetes.io/name', name);
    new kplus.k8s.KubePodDisruptionBudget(this, 'Pdb', {
      metadata,
      spec: { maxUnavailable: kplus.k8s.IntOrString.fromNumber(1), selector: { matchLabels: { ...this.labels } } },
    });
    new kplus.HorizontalPodAutoscaler(this, 'Hpa', {
      metadata,
      target: this.deployment,
      minReplicas,
      maxReplicas,
      metrics: [kplus.Metric.resourceCpu(kplus.MetricTarget.averageUtilization(targetCpuPercent))],
      // Up to whatever the measured load asks for, in one 15 s step (cdk8s-plus's default, +4 pods
      // or ×2 per 60 s, adds a minute to every scale-out that also waits for nodes). Scale-down keeps
      // its 300 s stabilization window: flapping costs more than a few idle pods.
      scaleUp: {
        stabilizationWindow: Duration.seconds(0),
        strategy: kplus.ScalingStrategy.MAX_CHANGE,
        policies: [
          { replicas: kplus.Replicas.percent(100), duration: Duration.seconds(15) },
          { replicas: kplus.Replicas.absolute(maxReplicas - minReplicas), duration: Duration.seconds(15) },
        ],
      },
    });
  }
}
