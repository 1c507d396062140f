import { defaultPlatform, loadPlatform, platformInput } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { pilotLightCapacity, promotionCapacity, workersPerZone } from './capacity';

const platform = defaultPlatform();
const production = platform.cluster('production');
const dr = platform.cluster('dr');

describe('promotionCapacity', () => {
  it("gives each standby ASG the primary's per-AZ minimum of the same-named pool", () => {
    const plan = promotionCapacity(production, dr, platform.namesOf(dr));
    expect(plan.targets).toEqual([
      { asg: 'dr-general-a', pool: 'general', availabilityZone: 'ap-northeast-1a', size: 2 },
      { asg: 'dr-general-c', pool: 'general', availabilityZone: 'ap-northeast-1c', size: 2 },
      { asg: 'dr-general-d', pool: 'general', availabilityZone: 'ap-northeast-1d', size: 2 },
    ]);
    expect(plan.notes).toEqual(['production pool burst (0/AZ minimum) has no counterpart in dr; its workloads must fit the other pools']);
    expect([...workersPerZone(plan)]).toEqual([
      ['ap-northeast-1a', 2],
      ['ap-northeast-1c', 2],
      ['ap-northeast-1d', 2],
    ]);
  });

  it('fails when the standby pool cannot hold the primary minimum', () => {
    const small = loadPlatform({
      ...platformInput,
      clusters: platformInput.clusters.map((c) => (c.name === 'dr' ? { ...c, workerPools: c.workerPools.map((p) => ({ ...p, maxPerAz: 1 })) } : c)),
    });
    expect(() => promotionCapacity(small.cluster('production'), small.cluster('dr'), small.namesOf('dr'))).toThrow(
      'clusters[dr].workerPools[0].maxPerAz: got 1; expected at least 2 (production pool general runs 2 per AZ)',
    );
  });
});

describe('pilotLightCapacity', () => {
  it("returns every standby ASG to the pool's own minimum", () => {
    expect(pilotLightCapacity(dr, platform.namesOf(dr)).targets.map((t) => `${t.asg}=${t.size}`)).toEqual(['dr-general-a=1', 'dr-general-c=1', 'dr-general-d=1']);
  });
});
