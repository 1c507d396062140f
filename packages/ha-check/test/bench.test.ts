import { describe, expect, it } from 'vitest';
import { benchmarkHaCheck, judgeHaCheckBench } from '../bench/harness';

// Timing is `npm run bench`'s job (the goal is ≤ 1 s); this only pins down what it measures and how it judges.
describe('benchmarkHaCheck', () => {
  it('runs the whole check on a generated deployment of 10,000 objects (primary, standby, CI identity) that meets its objectives', () => {
    const result = benchmarkHaCheck(10_000);
    expect(result.objects).toBeGreaterThanOrEqual(10_000);
    expect(result.objects).toBeLessThan(10_004);
    expect(result.kubernetesObjects).toBeGreaterThan(9_700);
    // The region and CI identity analyses run on the bench's input, as on the platform's.
    expect(result.regionScenario).toBe(true);
    expect(result.standbyResources).toBeGreaterThan(90);
    expect(result.ciRoles).toBe(5);
    expect(result.objectivesMet).toBe(true);
    // S3 replication without RTC is a warning on every primary with a replica region, as on the platform.
    expect(result.findingIds).toEqual(['backup.replication-lag-unbounded']);
    expect(result.wallMs).toBeGreaterThan(0);
    expect(result.cpuMs).toBeGreaterThan(0);
  });
});

describe('judgeHaCheckBench', () => {
  const idle = { loadAverage: 0.5, cpuCount: 2 };
  it('meets the goal when wall and CPU are both within 1 s', () => {
    expect(judgeHaCheckBench({ objects: 10_000, wallMs: 700, cpuMs: 900 }, idle)).toEqual({
      cpuGoalMet: true,
      wallGoalMet: true,
      line: 'ha-check bench: 10000 objects, 700 ms wall, 900 ms CPU (goal ≤ 1000 ms; load average 0.5 on 2 CPUs): goal met',
    });
  });
  it('says GOAL MISSED when the CPU time is above 1 s', () => {
    expect(judgeHaCheckBench({ objects: 10_000, wallMs: 1300, cpuMs: 1200 }, idle).line).toBe(
      'ha-check bench: 10000 objects, 1300 ms wall, 1200 ms CPU (goal ≤ 1000 ms; load average 0.5 on 2 CPUs)\nGOAL MISSED: CPU time 1200 ms > 1000 ms',
    );
  });
  it('blames a busy machine when only the wall time misses', () => {
    expect(judgeHaCheckBench({ objects: 10_000, wallMs: 2100, cpuMs: 800 }, { loadAverage: 7.6, cpuCount: 2 })).toMatchObject({
      cpuGoalMet: true,
      wallGoalMet: false,
      line: 'ha-check bench: 10000 objects, 2100 ms wall, 800 ms CPU (goal ≤ 1000 ms; load average 7.6 on 2 CPUs)\nGOAL MISSED: wall time 2100 ms > 1000 ms (CPU time within the goal: the machine is busy, measure again when it is idle)',
    });
  });
});
