import { PlatformConfigError } from './config-error';

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
 * assumption. Build one with `FailoverDecision.onCall` or `FailoverDecision.preAuthorised`.
 */
export abstract class FailoverDecision {
  /** An on-call engineer is paged, confirms the regional outage and escalates for authority before promoting. */
  static onCall(props: OnCallDecisionProps): FailoverDecision {
    return new OnCallDecision(props);
  }

  /**
   * Pre-authorised failover: the on-call is paged when the primary's check first fails, with the
   * prepared dispatch; policy authorises the promotion without escalation once the check has
   * failed continuously for `failedForSeconds` (the fence and recheck-primary make a false
   * positive safe: a primary that recovers stops the run before anything is writable).
   */
  static preAuthorised(props: PreAuthorisedDecisionProps): FailoverDecision {
    return new PreAuthorisedDecision(props);
  }

  abstract readonly kind: 'on-call' | 'pre-authorised';
  /** The terms, in order; `seconds` is what they add up to on the critical path. */
  abstract readonly terms: readonly DecisionTerm[];
  /** Seconds from the check turning unhealthy to the workflow dispatched. */
  abstract readonly seconds: number;
}

export interface OnCallDecisionProps {
  /** Seconds until the paged engineer acknowledges and looks. */
  readonly pageSeconds: number;
  /** Seconds to confirm the regional outage and get authority to fail over. */
  readonly decideSeconds: number;
}

export interface PreAuthorisedDecisionProps {
  /** Seconds the primary's check must have failed continuously before the promotion is authorised (policy). */
  readonly failedForSeconds: number;
  /** Seconds the on-call takes to acknowledge the page and open the prepared dispatch (assumed). */
  readonly acknowledgeSeconds: number;
}

function checkSeconds(factory: string, props: object): void {
  const issues = Object.entries(props)
    .filter(([, v]) => !Number.isInteger(v) || (v as number) < 0 || (v as number) > 86_400)
    .map(([k, v]) => ({ path: `failover.decision.${k}`, value: v, expected: `expected whole seconds from 0 to 86400 (FailoverDecision.${factory})` }));
  if (issues.length > 0) throw new PlatformConfigError(issues);
}

class OnCallDecision extends FailoverDecision {
  readonly kind = 'on-call';
  readonly terms: readonly DecisionTerm[];
  readonly seconds: number;

  constructor(props: OnCallDecisionProps) {
    super();
    checkSeconds('onCall', props);
    this.terms = [
      { name: 'page', seconds: props.pageSeconds, source: 'assumed', why: 'the on-call acknowledges the page' },
      { name: 'decide', seconds: props.decideSeconds, source: 'assumed', why: 'confirms the regional outage and escalates for authority to fail over' },
    ];
    this.seconds = props.pageSeconds + props.decideSeconds;
  }
}

class PreAuthorisedDecision extends FailoverDecision {
  readonly kind = 'pre-authorised';
  readonly terms: readonly DecisionTerm[];
  readonly seconds: number;

  constructor(props: PreAuthorisedDecisionProps) {
    super();
    checkSeconds('preAuthorised', props);
    // Paged at the first failure, the on-call acknowledges while the window runs: the longer of the two counts.
    this.terms = [
      { name: 'authorisation window', seconds: props.failedForSeconds, source: 'policy', why: "the primary's check failed continuously this long: promotion authorised without escalation" },
      { name: 'acknowledge', seconds: props.acknowledgeSeconds, source: 'assumed', why: 'the on-call, paged at the first failure, acknowledges and opens the prepared dispatch (runs during the window)' },
    ];
    this.seconds = Math.max(props.failedForSeconds, props.acknowledgeSeconds);
  }
}
