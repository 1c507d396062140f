/** Settings every NLB target-group health check has; subclasses fix what is checked. */
export interface TargetHealthCheckSettings {
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
}

/**
 * How an NLB target group judges a target. `port` is where the check goes: `traffic-port`
 * (the target group's own port) or a fixed port.
 */
export abstract class TargetHealthCheck implements TargetHealthCheckSettings {
  abstract readonly protocol: 'HTTP' | 'HTTPS';
  abstract readonly path: string;
  abstract readonly port: number | 'traffic-port';

  protected constructor(
    readonly intervalSeconds: number,
    readonly timeoutSeconds: number,
    readonly healthyThreshold: number,
    readonly unhealthyThreshold: number,
  ) {}

  /** Longest time a dead target keeps receiving new connections. */
  get detectionSeconds(): number {
    return this.intervalSeconds * this.unhealthyThreshold;
  }
}
