import { describe, expect, it } from 'vitest';
import { Commands } from './commands';
import { healthCheckStatus } from './route53';

/** A Commands whose `aws` answers from memory (the CLI contract is covered by test/*.test.ts). */
function answering(observations: string[]): Commands {
  const cli = new Commands({ dryRun: false });
  cli.readJson = (async () => ({ HealthCheckObservations: observations.map((Status) => ({ StatusReport: { Status } })) })) as Commands['readJson'];
  return cli;
}

describe('healthCheckStatus', () => {
  it('is healthy when more than 18 % of the checkers succeed, as Route 53 decides', async () => {
    const two = [...Array(2).fill('Success: HTTP Status Code 200'), ...Array(8).fill('Failure: timeout')];
    const one = ['Success: HTTP Status Code 200', ...Array(9).fill('Failure: timeout')];
    expect(await healthCheckStatus(answering(two), 'hc')).toEqual({ healthy: true, reporting: 10, succeeding: 2 });
    expect(await healthCheckStatus(answering(one), 'hc')).toEqual({ healthy: false, reporting: 10, succeeding: 1 });
    expect((await healthCheckStatus(answering([]), 'hc')).healthy).toBe(false);
  });
});
