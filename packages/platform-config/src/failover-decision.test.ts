import { describe, expect, it } from 'vitest';
import { defaultPlatform } from './default-platform';
import { FailoverDecision } from './failover-decision';

describe('FailoverDecision', () => {
  it('on call: paging and deciding add up, both assumed', () => {
    const d = FailoverDecision.onCall({ pageSeconds: 300, decideSeconds: 300 });
    expect(d).toMatchObject({ kind: 'on-call', seconds: 600 });
    expect(d.terms.map((t) => [t.name, t.seconds, t.source])).toEqual([['page', 300, 'assumed'], ['decide', 300, 'assumed']]);
  });

  it('pre-authorised: the policy window and the acknowledgement run together, the longer counts', () => {
    expect(FailoverDecision.preAuthorised({ failedForSeconds: 120, acknowledgeSeconds: 90 }).seconds).toBe(120);
    const slow = FailoverDecision.preAuthorised({ failedForSeconds: 120, acknowledgeSeconds: 300 });
    expect(slow.seconds).toBe(300);
    expect(slow.terms.map((t) => [t.name, t.source])).toEqual([['authorisation window', 'policy'], ['acknowledge', 'assumed']]);
  });

  it('rejects a term that is no whole number of seconds, naming the field', () => {
    expect(() => FailoverDecision.preAuthorised({ failedForSeconds: -1, acknowledgeSeconds: 60 })).toThrow(
      'failover.decision.failedForSeconds: got -1; expected whole seconds from 0 to 86400 (FailoverDecision.preAuthorised)',
    );
    expect(() => FailoverDecision.onCall({ pageSeconds: 1.5, decideSeconds: 60 })).toThrow('failover.decision.pageSeconds: got 1.5; expected whole seconds from 0 to 86400 (FailoverDecision.onCall)');
  });

  it('production fails over pre-authorised after 2 min', () => {
    const production = defaultPlatform().cluster('production');
    expect(production.failover?.decision).toMatchObject({ kind: 'pre-authorised', seconds: 120 });
  });
});
