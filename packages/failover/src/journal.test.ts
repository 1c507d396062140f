import { defaultPlatform } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { Journal } from './journal';
import { promotionBudgets } from './runner';

const STEPS = ['archive-freshness', 'promote-database', 'verify-app'].map((name) => ({ name, verifies: name }));
function journalOf(seconds: Record<string, number>): Journal {
  const journal = new Journal('Promote dr', STEPS, false);
  for (const s of STEPS) {
    journal.begin(s.name);
    journal.end('done', seconds[s.name]!);
  }
  return journal;
}

describe('promotion budgets in the journal', () => {
  const production = defaultPlatform().cluster('production');

  it("warns when promote-database took over 120 s and the run over production's regionRtoSeconds (from platform-config)", () => {
    const journal = journalOf({ 'archive-freshness': 5, 'promote-database': 150.4, 'verify-app': 500 });
    journal.checkBudgets(promotionBudgets(production));
    expect(journal.warnings).toEqual([
      'promote-database took 150.4 s, over 120 s (the runbook estimates the database promotion at ≤ 2 min)',
      `the run took 655.4 s, over ${production.objectives.regionRtoSeconds} s (production's regional RTO objective, objectives.regionRtoSeconds)`,
    ]);
    expect(journal.toMarkdown()).toContain('### Warnings\n- WARNING: promote-database took 150.4 s, over 120 s');
    expect(JSON.parse(journal.toJson()).warnings).toHaveLength(2);
  });

  it('stays quiet within the budgets, and checks no total for a primary that declares no RTO', () => {
    const within = journalOf({ 'archive-freshness': 5, 'promote-database': 120, 'verify-app': 60 });
    within.checkBudgets(promotionBudgets(production));
    expect(within.warnings).toEqual([]);
    const { regionRtoSeconds: _rto, ...objectives } = production.objectives;
    const long = journalOf({ 'archive-freshness': 5, 'promote-database': 10, 'verify-app': 5000 });
    long.checkBudgets(promotionBudgets({ ...production, objectives }));
    expect(long.warnings).toEqual([]);
  });
});
