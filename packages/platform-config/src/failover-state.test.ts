import { describe, expect, it } from 'vitest';
import { FAILOVER_STATE, parseFailoverState, renderFailoverState, servingCluster } from './failover-state';

describe('failover state (committed JSON)', () => {
  it('parses the committed file; a primary not listed serves itself', () => {
    expect(servingCluster('production', FAILOVER_STATE)).toBe(FAILOVER_STATE.production?.serving ?? 'production');
    expect(servingCluster('production', {})).toBe('production');
    expect(servingCluster('production', { production: { serving: 'dr', since: '2026-01-01T12:00:00Z', runId: 'r1' } })).toBe('dr');
  });

  it('renders sorted, and what it renders parses back', () => {
    const text = renderFailoverState({ staging: { serving: 'staging', since: '2026-01-02T00:00:00Z', runId: 'b' }, production: { serving: 'dr', since: '2026-01-01T12:00:00Z', runId: 'a' } });
    expect(Object.keys(JSON.parse(text))).toEqual(['production', 'staging']);
    expect(parseFailoverState(JSON.parse(text))).toEqual(JSON.parse(text));
  });

  it('refuses an entry without a valid since, naming the field and the value', () => {
    expect(() => parseFailoverState({ production: { serving: 'dr', since: 'yesterday', runId: 'r1' } })).toThrow(
      'failover-state.json: production.since: got "yesterday"; expected a UTC time like 2026-01-01T12:00:00Z',
    );
  });

  it('refuses a non-object file', () => {
    expect(() => parseFailoverState([])).toThrow('failover-state.json: got []; expected an object keyed by primary cluster name');
  });
});
