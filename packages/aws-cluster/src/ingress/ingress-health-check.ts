import { INGRESS_HEALTH_CHECK_PATH, INGRESS_NODE_PORTS } from '@platform/platform-config';
import { TargetHealthCheck, type TargetHealthCheckSettings } from '../load-balancing/target-health-check';

/**
 * How the ingress load balancer judges a worker: HTTP GET of the ingress controller's ping on
 * its HTTP NodePort (platform-config). Both listeners' target groups use it: a node that cannot
 * reach a healthy ingress controller should get neither HTTP nor HTTPS traffic.
 */
export class IngressHealthCheck extends TargetHealthCheck {
  /** 10 s interval, 2 failures to leave the pool (≤ 20 s: a dead zone's nodes), 2 successes to return. */
  static fast(): IngressHealthCheck {
    return new IngressHealthCheck(INGRESS_NODE_PORTS.http, INGRESS_HEALTH_CHECK_PATH, { intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 2 });
  }

  /** @param props.port @default INGRESS_NODE_PORTS.http  @param props.path @default INGRESS_HEALTH_CHECK_PATH */
  static custom(props: TargetHealthCheckSettings & { readonly port?: number; readonly path?: string }): IngressHealthCheck {
    return new IngressHealthCheck(props.port ?? INGRESS_NODE_PORTS.http, props.path ?? INGRESS_HEALTH_CHECK_PATH, props);
  }

  readonly protocol = 'HTTP';

  private constructor(
    readonly port: number,
    readonly path: string,
    props: TargetHealthCheckSettings,
  ) {
    super(props.intervalSeconds, props.timeoutSeconds, props.healthyThreshold, props.unhealthyThreshold);
  }
}
