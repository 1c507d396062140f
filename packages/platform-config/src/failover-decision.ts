import { PlatformConfigError } from './config-error';
import { HEALTH_CHECK_ALARM_PERIOD_SECONDS } from './health-check-page';

/** One term of the time from the primary's Route 53 check turning unhealthy to the promotion being dispatched. */
export interface DecisionTerm {
  readonly name: string;
  readonly seconds: number;
  /** `policy`: what the organisation decided; `assumed`: what people are expected to manage, to be measured in game days. */
  readonly source: 'policy' | 'assumed';
  readonly why: string;
}

/**
 * How a regional failover is decided: the time from the primary's Route 53 health check turning
 * unhealthy (ha-check's `detection`) until someone dispatches the region-failover workflow. Part
 * of the regional RTO that no Terraform shows, so every term says whether it is policy or an
 * assumption. Plain data (a definition is cloned and validated as data); build one with
 * `FailoverDecision.onCall` or `FailoverDecision.preAuthorised`.
 */
export interface FailoverDecision {
  readonly kind: 'on-call' | 'pre-authorised';
  /** The terms, in order. */
  readonly terms: readonly DecisionTerm[];
  /** Seconds from the check turning unhealthy to the workflow dispatched (what the terms add up to on the critical path). */
  readonly seconds: number;
}

/**
 * The page itself: aws-cluster's us-east-1 `HealthCheckAlarm` notifies on the first one-minute
 * HealthCheckStatus datapoint of the failed check, so the page reaches the on-call at least one
 * period after the check turns unhealthy; both strategies count it before the acknowledgement.
 */
const PAGE_DELIVERY_SECONDS = HEALTH_CHECK_ALARM_PERIOD_SECONDS;
const PAGE_WHY = `the us-east-1 health-check alarm pages after one ${HEALTH_CHECK_ALARM_PERIOD_SECONDS} s HealthCheckStatus datapoint`;

export interface OnCallDecisionProps {
  /** Seconds from the page arriving until the paged engineer acknowledges and looks. */
  readonly pageSeconds: number;
  /** Seconds to confirm the regional outage and get authority to fail over. */
  readonly decideSeconds: number;
}

export interface PreAuthorisedDecisionProps {
  /** Seconds the primary's check must have failed continuously before the promotion is authorised (policy). */
  readonly failedForSeconds: number;
  /** Seconds from the page arriving until the on-call acknowledges and opens the prepared dispatch (assumed). */
  readonly acknowledgeSeconds: number;
}

function checkSeconds(factory: string, props: object): void {
  const issues = Object.entries(props)
    .filter(([, v]) => !Number.isInteger(v) || (v as number) < 0 || (v as number) > 86_400)
    .map(([k, v]) => ({ path: `failover.decision.${k}`, value: v, expected: `expected whole seconds from 0 to 86400 (FailoverDecision.${factory})` }));
  if (issues.length > 0) throw new PlatformConfigError(issues);
}

/** Terms that run one after the other add up; terms that run at the same time count by the longest. */
function decision(kind: FailoverDecision['kind'], terms: readonly DecisionTerm[], together: 'in-series' | 'concurrent'): FailoverDecision {
  const seconds = terms.map((t) => t.seconds);
  return { kind, terms, seconds: together === 'in-series' ? seconds.reduce((a, b) => a + b, 0) : Math.max(...seconds) };
}

export const FailoverDecision = {
  /** An on-call engineer is paged, confirms the regional outage and escalates for authority before promoting: the terms add up. */
  onCall(props: OnCallDecisionProps): FailoverDecision {
    checkSeconds('onCall', props);
    const terms: DecisionTerm[] = [
      { name: 'page', seconds: PAGE_DELIVERY_SECONDS + props.pageSeconds, source: 'assumed', why: `${PAGE_WHY}, then the on-call acknowledges it (${props.pageSeconds} s)` },
      { name: 'decide', seconds: props.decideSeconds, source: 'assumed', why: 'confirms the regional outage and escalates for authority to fail over' },
    ];
    return decision('on-call', terms, 'in-series');
  },

  /**
   * Pre-authorised failover: the on-call is paged when the primary's check first fails, with the
   * prepared dispatch; policy authorises the promotion without escalation once the check has
   * failed continuously for `failedForSeconds` (the fence and recheck-primary make a false
   * positive safe: a primary that recovers stops the run before anything is writable). The
   * acknowledgement runs during the window: the longer of the two counts.
   */
  preAuthorised(props: PreAuthorisedDecisionProps): FailoverDecision {
    checkSeconds('preAuthorised', props);
    const terms: DecisionTerm[] = [
      { name: 'authorisation window', seconds: props.failedForSeconds, source: 'policy', why: "the primary's check failed continuously this long: promotion authorised without escalation" },
      { name: 'page + acknowledge', seconds: PAGE_DELIVERY_SECONDS + props.acknowledgeSeconds, source: 'assumed', why: `${PAGE_WHY}, then the on-call acknowledges and opens the prepared dispatch (${props.acknowledgeSeconds} s; runs during the window)` },
    ];
    return decision('pre-authorised', terms, 'concurrent');
  },
} as const;
