import { defaultPlatform } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { CommandError } from './commands';
import { assertNotPromoted, failingBackMarkerValue, parseServesMarker, promotedMarkerValue, standbyServes } from './promotion-marker';

const platform = defaultPlatform();
const GET = ['ssm', 'get-parameter', '--region', 'ap-northeast-1', '--name', '/hakube/dr/failover/promoted', '--query', 'Parameter.Value', '--output', 'text'];

/** Records calls; answers with `answer` (a string is stdout, an Error is thrown). */
function reader(answer: string | Error) {
  const calls: string[][] = [];
  return {
    calls,
    read: async (_tool: 'aws' | 'kubectl', args: readonly string[]) => {
      calls.push([...args]);
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
}
const failure = (stderr: string) => new CommandError({ tool: 'aws', args: GET, mutating: false }, 254, stderr);

describe('assertNotPromoted', () => {
  it('passes a standby without the marker, after reading it in its own region', async () => {
    const cli = reader(failure('An error occurred (ParameterNotFound) when calling the GetParameter operation: \n'));
    await expect(assertNotPromoted(platform, 'dr', cli)).resolves.toBeUndefined();
    expect(cli.calls).toEqual([GET]);
  });

  it('refuses a promoted standby, naming the stack, the marker and what to do', async () => {
    await expect(assertNotPromoted(platform, 'dr', reader('run r1: dr serves for production\n'))).rejects.toThrow(
      'dr-cluster: dr is promoted (SSM /hakube/dr/failover/promoted = "run r1: dr serves for production"); refusing to apply it, Terraform would put its worker minimums back to pilot light. Fail back first (npm run failover -- failback), or make the capacity permanent in platform-config',
    );
  });

  it('fails closed when the marker cannot be read', async () => {
    await expect(assertNotPromoted(platform, 'dr', reader(failure('An error occurred (AccessDeniedException)')))).rejects.toThrow(/AccessDeniedException/);
  });

  it("refuses the primary's stack too while its standby is promoted (the PRIMARY record leads to the standby), reading the standby's region", async () => {
    const cli = reader('run r1: dr serves for production\n');
    await expect(assertNotPromoted(platform, 'production', cli)).rejects.toThrow(
      'production-cluster: dr is promoted (SSM /hakube/dr/failover/promoted = "run r1: dr serves for production"); refusing to apply it, Terraform would point the PRIMARY record back at production, which is fenced while dr serves.',
    );
    expect(cli.calls).toEqual([GET]);
  });

  it('makes no call for clusters in no failover pair', async () => {
    const cli = reader(new Error('must not be called'));
    await assertNotPromoted(platform, 'staging', cli);
    expect(cli.calls).toEqual([]);
  });
});

describe('promoted marker values', () => {
  it('a serves marker carries the time users were moved, which fail-back reads back', () => {
    const value = promotedMarkerValue('serves', 'r1', 'dr', 'production', new Date('2026-01-01T12:00:00.123Z'));
    expect(value).toBe('run r1: dr serves for production since 2026-01-01T12:00:00Z');
    expect(standbyServes(value)).toBe(true);
    expect(parseServesMarker(value)).toEqual({ runId: 'r1', since: new Date('2026-01-01T12:00:00Z'), failingBack: false });
    // An older marker still lets the fence run, but has no time for fail-back.
    expect(parseServesMarker('run r0: dr serves for production')).toEqual({ runId: 'r0', failingBack: false });
    expect(parseServesMarker(promotedMarkerValue('promoting', 'r1', 'dr', 'production'))).toBeUndefined();
  });

  it('a failing-back marker keeps the promotion and its time for a resumed fail-back, and the fence rejects it', () => {
    const value = failingBackMarkerValue('r1', 'dr', 'production', new Date('2026-01-01T12:00:00.123Z'));
    expect(value).toBe('run r1: dr failing back to production, served since 2026-01-01T12:00:00Z');
    expect(standbyServes(value)).toBe(false);
    expect(parseServesMarker(value)).toEqual({ runId: 'r1', since: new Date('2026-01-01T12:00:00Z'), failingBack: true });
  });
});
