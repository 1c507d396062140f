import { TargetHealthCheck, type TargetHealthCheckSettings } from '../load-balancing/target-health-check';

/**
 * How the API load balancer judges a control-plane node: HTTPS GET /readyz (kube-apiserver
 * serves it to anonymous clients and fails it while etcd is unreachable or shutting down).
 */
export class ApiHealthCheck extends TargetHealthCheck {
  /** 5 s interval, 2 failures to leave the pool (≤ 10 s), 2 successes to return. */
  static fast(): ApiHealthCheck {
    return new ApiHealthCheck({ intervalSeconds: 5, timeoutSeconds: 3, healthyThreshold: 2, unhealthyThreshold: 2 });
  }

  static custom(props: TargetHealthCheckSettings): ApiHealthCheck {
    return new ApiHealthCheck(props);
  }

  readonly path = '/readyz';
  readonly protocol = 'HTTPS';
  readonly port = 'traffic-port';

  private constructor(props: TargetHealthCheckSettings) {
    super(props.intervalSeconds, props.timeoutSeconds, props.healthyThreshold, props.unhealthyThreshold);
  }
}
