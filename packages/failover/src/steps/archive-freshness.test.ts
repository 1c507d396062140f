import { defaultPlatform, REGIONAL_RPO_SECONDS } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { archiveStaleAfterSeconds } from './archive-freshness';

describe('archiveStaleAfterSeconds', () => {
  const production = defaultPlatform().cluster('production');

  it("is the primary's regional RPO objective (the loss the pair accepted), not the RTC-era 960 s", () => {
    expect(production.objectives.regionRpoSeconds).toBe(300);
    expect(archiveStaleAfterSeconds(production)).toBe(300);
  });

  it('falls back to REGIONAL_RPO_SECONDS (what the archive holds) when the primary declares no objective', () => {
    const { regionRpoSeconds: _declared, ...objectives } = production.objectives;
    expect(archiveStaleAfterSeconds({ ...production, objectives })).toBe(REGIONAL_RPO_SECONDS);
    expect(REGIONAL_RPO_SECONDS).toBe(120);
  });
});
