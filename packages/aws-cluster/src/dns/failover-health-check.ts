/**
 * How often Route 53's checkers probe a region's public endpoint and how many failures in a row
 * mark it unhealthy. Route 53 accepts only 10 s ("fast", charged extra) or 30 s intervals.
 */
export class FailoverHealthCheck {
  /** 10 s × 3 failures: unhealthy ≈ 30 s after the region stops answering. */
  static fast(): FailoverHealthCheck {
    return new FailoverHealthCheck(10, 3);
  }

  /** 30 s × 3 failures: ≈ 90 s, at the standard price. */
  static standard(): FailoverHealthCheck {
    return new FailoverHealthCheck(30, 3);
  }

  static custom(props: { readonly requestIntervalSeconds: number; readonly failureThreshold: number }): FailoverHealthCheck {
    return new FailoverHealthCheck(props.requestIntervalSeconds, props.failureThreshold);
  }

  /**
   * The cheapest of `standard()` and `fast()` whose detection plus `cacheSeconds` (what
   * resolvers may still hand out the dead region) fits `rtoSeconds`; undefined when neither does.
   */
  static forRecoveryObjective(rtoSeconds: number, cacheSeconds: number): FailoverHealthCheck | undefined {
    return [FailoverHealthCheck.standard(), FailoverHealthCheck.fast()].find((c) => c.detectionSeconds + cacheSeconds <= rtoSeconds);
  }

  private constructor(
    readonly requestIntervalSeconds: number,
    readonly failureThreshold: number,
  ) {}

  /** Seconds from the endpoint failing to Route 53 answering with the other record. */
  get detectionSeconds(): number {
    return this.requestIntervalSeconds * this.failureThreshold;
  }
}
