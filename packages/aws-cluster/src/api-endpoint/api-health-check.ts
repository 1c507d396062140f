/**
 * How the API load balancer judges a control-plane node: HTTPS GET /readyz (kube-apiserver
 * serves it to anonymous clients and fails it while etcd is unreachable or shutting down).
 */
export class ApiHealthCheck {
  /** 5 s interval, 2 failures to leave the pool (≤ 10 s), 2 successes to return. */
  static fast(): ApiHealthCheck {
    return new ApiHealthCheck(5, 3, 2, 2);
  }

  static custom(props: { intervalSeconds: number; timeoutSeconds: number; healthyThreshold: number; unhealthyThreshold: number }): ApiHealthCheck {
    return new ApiHealthCheck(props.intervalSeconds, props.timeoutSeconds, props.healthyThreshold, props.unhealthyThreshold);
  }

  readonly path = '/readyz';
  readonly protocol = 'HTTPS';

  private constructor(
    readonly intervalSeconds: number,
    readonly timeoutSeconds: number,
    readonly healthyThreshold: number,
    readonly unhealthyThreshold: number,
  ) {}

  /** Longest time a dead API server keeps receiving connections. */
  get detectionSeconds(): number {
    return this.intervalSeconds * this.unhealthyThreshold;
  }
}
