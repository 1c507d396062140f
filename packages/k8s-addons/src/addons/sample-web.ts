import { cpuConsumerImageRef, cpuConsumerMemoryLimitMiB, cpuConsumerTagRef, isPlaceholderDigest, SCALE_DAY_CPU_CONSUMER, SCALE_DAY_IMAGE_LOCK_FILE, SCALE_DAY_INGRESS, scaleDayProfileOf } from '@platform/platform-config';
import { ApiObject, Duration, JsonPatch, Size, type Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { AddOnBase, type AddOnContext } from '../addon';
import { ownNamespace } from '../private/namespace';
import { catalogWorkloadProps } from '../workloads/catalog-app';
import { HaWorkload, removeAddressLabel } from '../workloads/ha-workload';
import { IngressController, TRAEFIK_INGRESS_CLASS } from './ingress-controller';
import { MetricsServer } from './metrics-server';

export interface SampleWebProps {
  /** @default 'web' */
  readonly namespace: string;
  /** Load-generator image (the game-day Job). @default 'fortio/fortio:1.69.0' */
  readonly loadImage: string;
  /**
   * Public name the Ingress routes to the service; `null`: no Ingress (an override of
   * `undefined` keeps the default, as every deep-merged prop does).
   * @default platform-config's `names.appHostname` (settings.dns), the same name Route 53 fails over; null without DNS
   */
  readonly hostname: string | null;
  /** @default TRAEFIK_INGRESS_CLASS, the class IngressController creates */
  readonly ingressClassName: string;
  /**
   * Image (by digest) of the CPU consumer the web pod carries for scale day's CPU-costly request
   * (platform-config SCALE_DAY_CPU_CONSUMER, `POST /ConsumeCPU` routed to it); null: none.
   * @default the consumer where the cluster's scale-day profile uses it (scaleDayProfileOf), else null
   */
  readonly cpuConsumerImage: string | null;
}

/** The sample web app's name in the application catalog (app-catalog.json); also its workload name. */
export const SAMPLE_WEB_APP = 'web';

/** The Service port of the CPU consumer (its container's port, SCALE_DAY_CPU_CONSUMER.port). */
const CPU_SERVICE_PORT = SCALE_DAY_CPU_CONSUMER.port;

const DNS_NAME = /^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/;

/**
 * Flux creates an object with this annotation when it is missing and never updates it, so a
 * change made in the cluster (un-suspending the load generator) survives every reconcile.
 */
export const FLUX_CREATE_ONLY = { 'kustomize.toolkit.fluxcd.io/ssa': 'IfNotPresent' } as const;

/** fortio with 64 connections holds a few tens of MiB; the limit only stops a runaway from starving the node. */
const LOAD_JOB_MEMORY_LIMIT_MIB = 256;

/** How long a finished load-generator Job stays (logs) before it is deleted and Flux recreates it suspended. */
export const LOAD_JOB_TTL_SECONDS = 3600;

/**
 * A sample web service on the HA workload pattern, plus a suspended load-generator Job for
 * the autoscaling game day: `kubectl -n web patch job web-load --type merge -p '{"spec":{"suspend":false}}'`
 * drives CPU so the HPA scales out and cluster-autoscaler adds nodes across zones. The Job is
 * create-only for Flux (FLUX_CREATE_ONLY), so the next reconcile does not suspend it again
 * mid-run; an hour after it finishes it is deleted and Flux recreates it, suspended, for the
 * next game day.
 */
export class SampleWebService extends AddOnBase<SampleWebProps> {
  readonly id = 'sample-web';
  readonly layer = 'apps' as const;
  // The Ingress needs the controller's IngressClass: Flux applies apps only after infra-controllers.
  override readonly dependencies = [MetricsServer, IngressController];

  protected defaults(ctx: AddOnContext): SampleWebProps {
    return {
      namespace: 'web',
      loadImage: 'fortio/fortio:1.69.0',
      hostname: ctx.platform.names.appHostname ?? null,
      ingressClassName: TRAEFIK_INGRESS_CLASS,
      cpuConsumerImage: scaleDayProfileOf(ctx.cluster).cpuConsumer ? cpuConsumerImageRef() : null,
    };
  }

  protected override check(props: SampleWebProps, ctx: AddOnContext): void {
    if (props.hostname !== null && !DNS_NAME.test(props.hostname)) this.fail('hostname', props.hostname, 'expected a lower-case DNS name such as app.example.com');
    const image = props.cpuConsumerImage;
    // The lock's tag before the digest is resolved: a real image (never a placeholder a node would
    // fail to pull), allowed on the example platform only; an applied platform must pin it first.
    if (image !== null && image === cpuConsumerTagRef() && SCALE_DAY_CPU_CONSUMER.digest === null) {
      if (!ctx.platform.settings.example) this.fail('cpuConsumerImage', image, `expected the digest pinned (npm run pipeline:image-lock -- --write resolves ${image} through its registry into ${SCALE_DAY_IMAGE_LOCK_FILE}), not the tag alone, while settings.example is false (a platform that is applied)`);
      return;
    }
    if (image !== null && !/^[^@\s]+:[^@\s/]+@sha256:[0-9a-f]{64}$/.test(image)) this.fail('cpuConsumerImage', image, 'expected an image pinned by tag and digest: <repository>:<tag>@sha256:<64 hex digits>');
    if (image !== null && isPlaceholderDigest(image.split('@')[1]!) && !ctx.platform.settings.example) {
      this.fail('cpuConsumerImage', image, `expected the real digest (npm run pipeline:image-lock -- --write resolves ${image.split('@')[0]}), not the placeholder, while settings.example is false (a platform that is applied)`);
    }
  }

  protected render(chart: Chart, props: SampleWebProps, ctx: AddOnContext): void {
    ownNamespace(chart, props.namespace);
    // Image, HPA bounds and resources come from the application catalog (platform-config).
    const app = ctx.platform.appOf(ctx.cluster, SAMPLE_WEB_APP);
    if (!app) return;
    const web = new HaWorkload(chart, SAMPLE_WEB_APP, {
      ...catalogWorkloadProps(app),
      namespace: props.namespace,
      args: ['netexec', '--http-port=8080'],
      port: 8080,
      availabilityZones: ctx.cluster.availabilityZones,
    });
    if (props.cpuConsumerImage) this.cpuConsumer(web, props.cpuConsumerImage, cpuConsumerMemoryLimitMiB(scaleDayProfileOf(ctx.cluster).rate, app.scaling.minReplicas));
    const job = new kplus.Job(chart, 'web-load', {
      metadata: { name: 'web-load', namespace: props.namespace, labels: { 'app.kubernetes.io/name': 'web-load' }, annotations: { ...FLUX_CREATE_ONLY } },
      select: false,
      backoffLimit: 0,
      ttlAfterFinished: Duration.seconds(LOAD_JOB_TTL_SECONDS),
      securityContext: { ensureNonRoot: true },
      containers: [
        {
          name: 'fortio',
          image: props.loadImage,
          args: ['load', '-qps', '0', '-c', '64', '-t', '15m', `http://${web.service.name}.${props.namespace}.svc.cluster.local/`],
          // No CPU limit: the load generator should send as fast as the node lets it (throttling would measure itself).
          resources: { cpu: { request: kplus.Cpu.millis(500) }, memory: { request: Size.mebibytes(128), limit: Size.mebibytes(LOAD_JOB_MEMORY_LIMIT_MIB) } },
          securityContext: { user: 65532, group: 65532 },
        },
      ],
    });
    // Created suspended; the game day un-suspends it (Flux leaves it alone after creating it).
    ApiObject.of(job).addJsonPatch(JsonPatch.add('/spec/suspend', true));
    // An HTTP client needs no Linux capability and no syscall beyond the runtime's default filter.
    ApiObject.of(job).addJsonPatch(JsonPatch.add('/spec/template/spec/securityContext/seccompProfile', { type: 'RuntimeDefault' }));
    ApiObject.of(job).addJsonPatch(JsonPatch.add('/spec/template/spec/containers/0/securityContext/capabilities', { drop: ['ALL'] }));
    removeAddressLabel(ApiObject.of(job));
    if (props.hostname) this.ingress(chart, props, props.hostname, web);
    if (props.hostname && props.cpuConsumerImage) this.cpuIngress(chart, props, props.hostname, web);
  }

  /**
   * The CPU consumer beside the app in every web pod (its CPU counts in the pod's utilisation, so
   * the HPA scales the app on it) and a Service port for it. Its CPU limit caps what one pod can
   * burn; its memory limit holds the processes scale day's rate forks (cpuConsumerMemoryLimitMiB).
   */
  private cpuConsumer(web: HaWorkload, image: string, memoryLimitMiB: number): void {
    const c = SCALE_DAY_CPU_CONSUMER;
    web.deployment.addContainer({
      name: 'cpu-consumer',
      image,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      args: [`--port=${c.port}`],
      ports: [{ number: c.port, name: 'cpu' }],
      resources: { cpu: { request: kplus.Cpu.millis(c.cpuRequestMillis), limit: kplus.Cpu.millis(c.cpuLimitMillis) }, memory: { request: Size.mebibytes(c.memoryMiB), limit: Size.mebibytes(memoryLimitMiB) } },
      securityContext: { user: 65532, group: 65532 },
    });
    ApiObject.of(web.deployment).addJsonPatch(JsonPatch.add('/spec/template/spec/containers/1/securityContext/capabilities', { drop: ['ALL'] }));
    web.service.bind(CPU_SERVICE_PORT, { targetPort: c.port, name: 'cpu' });
  }

  /** Routes the public name to the Service (every path; `/ConsumeCPU` too reaches only the app); the controller reaches it from every zone. */
  private ingress(chart: Chart, props: SampleWebProps, host: string, web: HaWorkload): void {
    const port = web.service.port;
    const backend = (number: number) => ({ service: { name: web.service.name, port: { number } } });
    new kplus.k8s.KubeIngress(chart, 'web-ingress', {
      metadata: { name: web.service.name, namespace: props.namespace, labels: { ...web.labels } },
      spec: {
        ingressClassName: props.ingressClassName,
        rules: [
          {
            host,
            http: {
              paths: [
                { path: '/', pathType: 'Prefix', backend: backend(port) },
              ],
            },
          },
        ],
      },
    });
  }

  /**
   * `POST /ConsumeCPU` to the CPU consumer, on the controller's internal entrypoint only
   * (SCALE_DAY_INGRESS: only an internal ClusterIP Service has that port, no NLB listener reaches
   * it; pod addresses are VXLAN overlay, unroutable from the VPC): upstream's handler takes any millicores/durationSec, so a public route would let anyone pin
   * every pod at its limit and hold the HPA and the ASGs at their maximum.
   */
  private cpuIngress(chart: Chart, props: SampleWebProps, host: string, web: HaWorkload): void {
    new kplus.k8s.KubeIngress(chart, 'web-cpu-ingress', {
      metadata: {
        name: `${web.service.name}-cpu`,
        namespace: props.namespace,
        labels: { ...web.labels },
        annotations: { 'traefik.ingress.kubernetes.io/router.entrypoints': SCALE_DAY_INGRESS.entrypoint },
      },
      spec: {
        ingressClassName: props.ingressClassName,
        rules: [{ host, http: { paths: [{ path: '/ConsumeCPU', pathType: 'Exact', backend: { service: { name: web.service.name, port: { number: CPU_SERVICE_PORT } } } }] } }],
      },
    });
  }
}
