import { describe, expect, it } from 'vitest';
import { defaultPlatform } from './default-platform';
import { FailoverDecision } from './failover-decision';
import { HEALTH_CHECK_ALARM_PERIOD_SECONDS } from './health-check-page';

describe('FailoverDecision', () => {
  it('on call: the us-east-1 alarm\'s page (one 60 s datapoint), the acknowledgement and deciding add up, all assumed', () => {
    expect(HEALTH_CHECK_ALARM_PERIOD_SECONDS).toBe(60);
    const d = FailoverDecision.onCall({ pageSeconds: 300, decideSeconds: 300 });
    expect(d).toMatchObject({ kind: 'on-call', seconds: 660 });
    expect(d.terms.map((t) => [t.name, t.seconds, t.source])).toEqual([['page', 360, 'assumed'], ['decide', 300, 'assumed']]);
    expect(d.terms[0]!.why).toBe('the us-east-1 health-check alarm pages after one 60 s HealthCheckStatus datapoint, then the on-call acknowledges it (300 s)');
  });

  it('pre-authorised: the policy window and page + acknowledgement run together, the longer counts', () => {
    expect(FailoverDecision.preAuthorised({ failedForSeconds: 120, acknowledgeSeconds: 60 }).seconds).toBe(120);
    // The page arrives a datapoint after the check fails: 60 + 90 outlasts a 120 s window.
    expect(FailoverDecision.preAuthorised({ failedForSeconds: 120, acknowledgeSeconds: 90 }).seconds).toBe(150);
    const slow = FailoverDecision.preAuthorised({ failedForSeconds: 120, acknowledgeSeconds: 300 });
    expect(slow.seconds).toBe(360);
    expect(slow.terms.map((t) => [t.name, t.source])).toEqual([['authorisation window', 'policy'], ['page + acknowledge', 'assumed']]);
  });

  it('rejects a term that is no whole number of seconds, naming the field', () => {
    expect(() => FailoverDecision.preAuthorised({ failedForSeconds: -1, acknowledgeSeconds: 60 })).toThrow(
      'failover.decision.failedForSeconds: got -1; expected whole seconds from 0 to 86400 (FailoverDecision.preAuthorised)',
    );
    expect(() => FailoverDecision.onCall({ pageSeconds: 1.5, decideSeconds: 60 })).toThrow('failover.decision.pageSeconds: got 1.5; expected whole seconds from 0 to 86400 (FailoverDecision.onCall)');
  });

  it('production fails over pre-authorised after 2 min; the page (60 s) plus a 2 min acknowledgement sets the term', () => {
    const production = defaultPlatform().cluster('production');
    expect(production.failover?.decision).toMatchObject({ kind: 'pre-authorised', seconds: 180 });
  });
});
