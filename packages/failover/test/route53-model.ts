/**
 * A model of Route 53 failover routing and health checks, following the documented rules:
 * - an endpoint check (HTTP, HTTP_STR_MATCH) is healthy when MORE than 18 % of the checkers
 *   report healthy; a checker reports healthy on HTTP 2xx/3xx, and for HTTP_STR_MATCH only if
 *   the search string lies entirely in the first 5120 bytes of the body; `inverted` flips the
 *   result; a `disabled` check is always healthy; a CALCULATED check is healthy when at least
 *   `healthThreshold` of its children are;
 * - a record without a health check counts healthy; an alias record with
 *   evaluate_target_health is healthy only if its target is (a load balancer with a healthy target);
 * - failover: PRIMARY while healthy; else SECONDARY if healthy; if both are unhealthy, PRIMARY.
 * The endpoints are the two regions' ingress load balancers; what a path answers comes from
 * `serve` (the test derives it from the generated Ingress rules).
 */
export const HEALTHY_SHARE = 0.18;
export const STRING_MATCH_BYTES = 5120;

export interface HealthCheck {
  readonly type: 'HTTP' | 'HTTP_STR_MATCH' | 'CALCULATED';
  readonly fqdn?: string;
  resourcePath?: string;
  readonly searchString?: string;
  readonly inverted?: boolean;
  readonly disabled?: boolean;
  readonly children?: readonly string[];
  readonly healthThreshold?: number;
}

export interface AliasRecord {
  readonly role: 'PRIMARY' | 'SECONDARY';
  readonly setIdentifier: string;
  healthCheckId?: string;
  alias: { dnsName: string; evaluateTargetHealth: boolean };
}

export interface HttpAnswer {
  readonly status: number;
  readonly body?: string;
}

export interface World {
  /** What checker `checker` (0…checkers-1) gets for GET `path` from load balancer `fqdn` (Host: fqdn); undefined: no connection. */
  serve(fqdn: string, path: string, checker: number): HttpAnswer | undefined;
  /** Whether the load balancer has at least one healthy target (its own target-group check). */
  targetHealthy(fqdn: string): boolean;
  readonly checkers: number;
}

export class Route53Model {
  constructor(
    readonly checks: Map<string, HealthCheck>,
    readonly records: AliasRecord[],
  ) {}

  checkHealthy(id: string, world: World): boolean {
    const check = this.checks.get(id);
    if (!check) throw new Error(`model: no health check ${id}`);
    if (check.disabled) return true;
    let healthy: boolean;
    if (check.type === 'CALCULATED') {
      healthy = (check.children ?? []).filter((c) => this.checkHealthy(c, world)).length >= (check.healthThreshold ?? 1);
    } else {
      let ok = 0;
      for (let i = 0; i < world.checkers; i++) {
        const answer = world.serve(check.fqdn!, check.resourcePath ?? '/', i);
        const statusOk = answer !== undefined && answer.status >= 200 && answer.status < 400;
        const bodyOk = check.type !== 'HTTP_STR_MATCH' || Buffer.from(answer?.body ?? '').subarray(0, STRING_MATCH_BYTES).toString('latin1').includes(check.searchString ?? '');
        if (statusOk && bodyOk) ok++;
      }
      healthy = ok / world.checkers > HEALTHY_SHARE;
    }
    return check.inverted ? !healthy : healthy;
  }

  recordHealthy(record: AliasRecord, world: World): boolean {
    if (record.healthCheckId && !this.checkHealthy(record.healthCheckId, world)) return false;
    return !record.alias.evaluateTargetHealth || world.targetHealthy(record.alias.dnsName);
  }

  /** The load balancer a resolver is sent to. */
  answer(world: World): string {
    const primary = this.records.find((r) => r.role === 'PRIMARY')!;
    const secondary = this.records.find((r) => r.role === 'SECONDARY')!;
    if (this.recordHealthy(primary, world)) return primary.alias.dnsName;
    if (this.recordHealthy(secondary, world)) return secondary.alias.dnsName;
    return primary.alias.dnsName;
  }

  /** Applies an `aws route53` write as packages/failover issues it (update-health-check, change-resource-record-sets UPSERT). */
  apply(argv: readonly string[]): void {
    const flag = (name: string) => argv[argv.indexOf(name) + 1]!;
    if (argv[1] === 'update-health-check') {
      const check = this.checks.get(flag('--health-check-id'));
      if (!check) throw new Error(`model: NoSuchHealthCheck ${flag('--health-check-id')}`);
      if (argv.includes('--resource-path')) check.resourcePath = flag('--resource-path');
      return;
    }
    if (argv[1] === 'change-resource-record-sets') {
      const batch = JSON.parse(flag('--change-batch')) as { Changes: { Action: string; ResourceRecordSet: { SetIdentifier: string; Failover: 'PRIMARY' | 'SECONDARY'; HealthCheckId?: string; AliasTarget: { DNSName: string; EvaluateTargetHealth: boolean } } }[] };
      for (const { Action, ResourceRecordSet: r } of batch.Changes) {
        if (Action !== 'UPSERT') throw new Error(`model: unsupported ${Action}`);
        const next: AliasRecord = { role: r.Failover, setIdentifier: r.SetIdentifier, healthCheckId: r.HealthCheckId, alias: { dnsName: r.AliasTarget.DNSName.replace(/\.$/, ''), evaluateTargetHealth: r.AliasTarget.EvaluateTargetHealth } };
        const i = this.records.findIndex((x) => x.setIdentifier === r.SetIdentifier);
        if (i >= 0) this.records[i] = next;
        else this.records.push(next);
      }
      return;
    }
    throw new Error(`model: unsupported route53 ${argv[1]}`);
  }
}
