import type { ClusterDefinition } from './cluster-definition';
import imageLock from './scale-day-image-lock.json';

/**
 * The scale-day images pinned by digest, keyed by `<repository>:<tag>`; null: not resolved yet.
 * Written only by `npm run pipeline:image-lock -- --write`, which asks the registry (OCI
 * distribution API) what the tag names; the scale-day workflow re-verifies it before every run.
 */
export const SCALE_DAY_IMAGE_LOCK_FILE = 'packages/platform-config/src/scale-day-image-lock.json';
export type ScaleDayImageLock = Readonly<Record<string, string | null>>;
export const SCALE_DAY_IMAGE_LOCK: ScaleDayImageLock = imageLock;

/**
 * The CPU-costly request scale day loads the sample web app with. agnhost netexec (the app) has
 * no endpoint that costs CPU, so the web pod of a cluster that uses this profile carries a
 * second container, the Kubernetes e2e `resource-consumer` image: each
 * `POST /ConsumeCPU?millicores=M&durationSec=D` makes the pod that receives it burn M millicores
 * for D seconds (upstream test/images/resource-consumer; it answers 400 to anything but POST).
 * The cost is the pod's, so the HPA sees it: at R requests/s the app needs R × M × D millicores.
 */
export const SCALE_DAY_CPU_CONSUMER = {
  repository: 'registry.k8s.io/e2e-test-images/resource-consumer',
  tag: '1.13',
  /**
   * From SCALE_DAY_IMAGE_LOCK; null until `pipeline:image-lock --write` has resolved the tag where
   * a registry is reachable (it was not where this was written). Unresolved, the example platform
   * renders the tag alone (a real image, pulled by tag) and a platform that is applied refuses
   * to synthesize (docs/runbooks/scale-day.md, "The consumer image").
   */
  digest: SCALE_DAY_IMAGE_LOCK['registry.k8s.io/e2e-test-images/resource-consumer:1.13'] ?? null,
  /** Port of its HTTP server (`--port`; agnhost has 8080). */
  port: 8081,
  /**
   * What the container requests and may burn. The request sizes the peak: with agnhost's 100m a web
   * pod asks 500m, so the 4 pods per AZ at maxReplicas 12 (zone spread) ask 2000m, more than a
   * staging worker's 1920m room after DaemonSets: web alone needs a second worker in every AZ
   * (ha-check's scale-day scenario). The limit sets how fast the HPA can grow: a decision wants at
   * most ceil(measured pods × pod usage / request / target), and only the consumer burns (agnhost
   * idles), so at 500m per pod and a 70 % target one step grows ×limit/350m: 1500m takes 3 → 12 in
   * one decision (×4.29, the policies allow +9); the former 500m limit over 400m needed four
   * (3 → 6 → 11 → 12, each after the new pods were Ready and sampled), past staging's 300 s.
   */
  cpuRequestMillis: 400,
  cpuLimitMillis: 1500,
  memoryMiB: 32,
  /**
   * Memory estimate for the limit: upstream's handler forks one `consume-cpu` process per request
   * that lives `durationSec`; a small static Go binary's resident set is a few MiB (rounded up to
   * processMiB), the HTTP server itself about serverMiB. See cpuConsumerMemoryLimitMiB.
   */
  serverMiB: 16,
  processMiB: 8,
  /** Per request: 100 millicores for 1 s (0.1 CPU-second). */
  millicores: 100,
  durationSec: 1,
} as const;

/**
 * The consumer container's memory limit: its server plus the processes one pod runs at once when
 * the profile's rate lands on the HPA's minimum (rate × durationSec in flight, split over
 * minReplicas, doubled for an uneven spread). Staging: 48 req/s × 1 s / 3 pods × 2 → 32 processes
 * × 8 MiB + 16 MiB = 272 MiB, where 64 MiB held 6 processes and OOM-killed the pod.
 */
export function cpuConsumerMemoryLimitMiB(rate: number, minReplicas: number): number {
  const c = SCALE_DAY_CPU_CONSUMER;
  return c.serverMiB + c.processMiB * Math.ceil((2 * rate * c.durationSec) / minReplicas);
}

/**
 * The only way into `POST /ConsumeCPU`: a Traefik entrypoint on no port the NLB forwards. Its
 * Ingress binds to this entrypoint alone, the controller's extra ClusterIP Service (chart
 * `service.additionalServices.internal`, named `<release>-internal`) is its only Service, so it
 * is reachable from pods and nodes of the cluster, never from the internet (nor from the VPC: pod
 * addresses live on Cilium's VXLAN overlay). A source-IP allow-list on the public route could not tell k6 from the internet: the NLB does
 * not preserve client IPs (preserve_client_ip false, no proxy protocol) and the NodePort hop
 * (externalTrafficPolicy Cluster, kube-proxy MASQUERADE towards Cilium's cilium_host route) makes
 * every public request arrive from a node's router address, inside the pod CIDR too.
 */
export const SCALE_DAY_INGRESS = {
  entrypoint: 'scaleday',
  /** Traefik's container port for the entrypoint and the internal Service's port. */
  port: 8082,
  /** The ingress controller's namespace and the internal Service's name (chart: `<fullname>-internal`). */
  namespace: 'traefik',
  service: 'traefik-internal',
} as const;

/**
 * What scale day's k6 pod (packages/pipeline load-job.ts) requests: ha-check's scale-day scenario
 * places it beside the app, so the node scale-out it expects is the app's, not k6's.
 */
export const SCALE_DAY_LOAD_POD = { cpuMilli: 500, memoryMiB: 256, memoryLimitMiB: 1024 } as const;

/** The all-zero digest documentation uses (it names no image): refused for a platform that is applied, wherever an image prop names it. */
export const isPlaceholderDigest = (digest: string): boolean => /^sha256:0{64}$/.test(digest);

export interface ScaleDayProfile {
  /** Ingress path k6 requests (query included). */
  readonly path: string;
  readonly method: 'GET' | 'POST';
  /** Requests per second at the hold. */
  readonly rate: number;
  /** Whether the web pod carries the CPU consumer (and the Ingress routes `/ConsumeCPU` to it). */
  readonly cpuConsumer: boolean;
  /**
   * The app alone at its maximum needs more workers than stand in every AZ (ha-check's scale-day
   * scenario, `elasticity.scaleDay.nodeScaleOutInEveryAz`): scale day fails when no AZ gained a Ready worker.
   */
  readonly expectNodeScaleOut: boolean;
}

/**
 * Scale day's default load per cluster. Staging is where node scale-out is proven: the CPU path
 * at a rate that asks for the web HPA's maximum (12 pods × 500 m requested × 70 % = 4.2 cores, so
 * 48 req/s × 0.1 CPU-s = 4.8 cores is past it), and web alone at 12 needs more than staging's one
 * standing worker in every AZ (ha-check's scale-day scenario, which also places k6's pod and credits
 * the scale-out to web only; test: packages/ha-check/test/shipped.test.ts, "scale day's own peak").
 * Elsewhere the sample app keeps no test endpoint on its public name: `/` costs no CPU, a run
 * there demonstrates the harness and ends inconclusive unless `--path` names a costly request.
 */
export function scaleDayProfileOf(cluster: Pick<ClusterDefinition, 'environment'>): ScaleDayProfile {
  if (cluster.environment === 'staging') {
    const c = SCALE_DAY_CPU_CONSUMER;
    return { path: `/ConsumeCPU?millicores=${c.millicores}&durationSec=${c.durationSec}`, method: 'POST', rate: 48, cpuConsumer: true, expectNodeScaleOut: true };
  }
  return { path: '/', method: 'GET', rate: 200, cpuConsumer: false, expectNodeScaleOut: false };
}

/** `<repository>:<tag>`, the lock's key for the CPU consumer. */
export const cpuConsumerTagRef = (): string => `${SCALE_DAY_CPU_CONSUMER.repository}:${SCALE_DAY_CPU_CONSUMER.tag}`;

/** The image reference web's consumer container runs: pinned (`:tag@digest`) once the lock has the digest, else the tag alone. */
export const cpuConsumerImageRef = (): string => (SCALE_DAY_CPU_CONSUMER.digest ? `${cpuConsumerTagRef()}@${SCALE_DAY_CPU_CONSUMER.digest}` : cpuConsumerTagRef());
