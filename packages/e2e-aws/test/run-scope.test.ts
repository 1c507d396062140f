import { describe, expect, it } from 'vitest';
import { DEFAULT_DEADLINE_MINUTES, PARTIAL_EXIT_CODE, runDeadline, runScope, runVerdict } from '../src/run-scope';

const all = ['ci-identity', 'dr-cluster', 'staging-cluster', 'production-cluster', 'node-image-ap-northeast-2'];

describe('runScope / runVerdict', () => {
  it('a run without filters is full: ✅ and exit 0', () => {
    const scope = runScope({}, [], all);
    expect(scope.stacks).toEqual(all);
    expect(scope.skipped).toEqual([]);
    expect(runVerdict(false, scope)).toEqual({ heading: '✅', exitCode: 0 });
  });

  it('a filtered run that passed is PARTIAL, names what it skipped and exits non-zero', () => {
    const scope = runScope({ E2E_AWS_ONLY: 'dr-cluster,production-cluster', E2E_AWS_SKIP: 'boot' }, [], all);
    expect(scope.stacks).toEqual(['dr-cluster', 'production-cluster']);
    const verdict = runVerdict(false, scope);
    expect(verdict.exitCode).toBe(PARTIAL_EXIT_CODE);
    expect(verdict.heading).toContain('PARTIAL: skipped stacks ci-identity, staging-cluster, node-image-ap-northeast-2 (E2E_AWS_ONLY); phases boot (E2E_AWS_SKIP)');
    expect(verdict.heading).not.toContain('✅');
  });

  it('--accept-partial (as nx forwards it too) makes a passed partial run exit 0, still saying PARTIAL', () => {
    for (const flag of ['--accept-partial', '--accept-partial=true']) {
      const verdict = runVerdict(false, runScope({ E2E_AWS_SKIP: 'drift' }, [flag], all));
      expect(verdict.exitCode).toBe(0);
      expect(verdict.heading).toContain('PARTIAL: skipped phases drift');
    }
  });

  it('a failure wins over partial', () => {
    expect(runVerdict(true, runScope({ E2E_AWS_SKIP: 'drift' }, ['--accept-partial'], all)).exitCode).toBe(1);
  });

  it('refuses an unknown stack or phase, naming what exists', () => {
    expect(() => runScope({ E2E_AWS_ONLY: 'dr' }, [], all)).toThrow(`E2E_AWS_ONLY: unknown stack(s) dr; the synthesized stacks are ${all.join(', ')}`);
    expect(() => runScope({ E2E_AWS_SKIP: 'boots' }, [], all)).toThrow('E2E_AWS_SKIP: unknown phase(s) boots; phases that can be skipped: boot, failover, drift');
  });
});

describe('runDeadline', () => {
  it('defaults to 30 min, takes E2E_AWS_DEADLINE_MINUTES, and the flag over the environment', () => {
    expect(runDeadline({}, [])).toBe(DEFAULT_DEADLINE_MINUTES);
    expect(DEFAULT_DEADLINE_MINUTES).toBe(30);
    expect(runDeadline({ E2E_AWS_DEADLINE_MINUTES: '12.5' }, [])).toBe(12.5);
    expect(runDeadline({ E2E_AWS_DEADLINE_MINUTES: '12' }, ['--deadline-minutes=5'])).toBe(5);
  });

  it('refuses a value that is not a positive number of minutes, naming where it came from', () => {
    expect(() => runDeadline({ E2E_AWS_DEADLINE_MINUTES: 'soon' }, [])).toThrow('E2E_AWS_DEADLINE_MINUTES: "soon" is not a number of minutes above 0 (default 30)');
    expect(() => runDeadline({}, ['--deadline-minutes=0'])).toThrow('--deadline-minutes: "0" is not a number of minutes above 0 (default 30)');
  });
});
