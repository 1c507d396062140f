import { describe, expect, it } from 'vitest';
import { defaultPlatform } from '@platform/platform-config';
import { rollControlPlaneCommand } from '../src/cli/commands/roll-control-plane';
import { COMMANDS, main } from '../src/cli/main';
import { awsCliAutoScaling } from '../src/io/aws-autoscaling';
import { CONTROL_PLANE_REFRESH, controlPlaneGroups, rollControlPlane } from '../src/operations/control-plane-roll';
import { recordingActions } from './support/actions';
import { fakeAutoScaling } from './support/fake-autoscaling';

const platform = defaultPlatform();
const production = platform.cluster('production');
const GROUPS = controlPlaneGroups(production, platform.namesOf(production));
const TARGET_GROUPS = ['arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:targetgroup/production-api/1', 'arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:targetgroup/production-api-int/2'];

/** Production's control plane; `outdated` groups run launch template version 1 while the group launches 2. */
function cluster(outdated: readonly string[] = GROUPS) {
  return fakeAutoScaling(GROUPS.map((name) => ({ name, version: '2', instanceVersion: outdated.includes(name) ? '1' : '2', targetGroupArns: TARGET_GROUPS })));
}

async function roll(fake: ReturnType<typeof fakeAutoScaling>, args: readonly string[] = ['--cluster', 'production']) {
  const actions = recordingActions();
  const errors: string[] = [];
  const error = console.error;
  console.error = (line: string) => void errors.push(line);
  try {
    const code = await main(['roll-control-plane', ...args], undefined, platform, {
      actions,
      commands: { ...COMMANDS, 'roll-control-plane': rollControlPlaneCommand({ api: awsCliAutoScaling(production.region, fake.aws), pollMs: 0, sleep: async () => {} }) },
    });
    return { code, actions, errors };
  } finally {
    console.error = error;
  }
}

describe('pipeline roll-control-plane against a fake Auto Scaling (one AZ at a time)', () => {
  it('rolls the per-AZ groups in AZ order', () => {
    expect(GROUPS).toEqual(['production-control-plane-a', 'production-control-plane-b', 'production-control-plane-c']);
    expect(Object.keys(COMMANDS)).toContain('roll-control-plane');
  });

  it('replaces every outdated node, one group after the other, never two members down at once', async () => {
    const fake = cluster();
    const { code } = await roll(fake);
    expect(code).toBe(0);
    expect(fake.started).toEqual(GROUPS);
    expect(fake.refreshes.map((r) => r.status)).toEqual(['Successful', 'Successful', 'Successful']);
    expect(fake.state.peakDown).toBe(1);
    for (const g of fake.world.values()) expect(g.instances.map((i) => [i.version, i.state])).toEqual([['2', 'InService']]);
    // Each refresh asks AWS for terminate-first, skip-matching preferences.
    expect(fake.calls.filter((c) => c.startsWith('autoscaling start-instance-refresh')).every((c) => c.includes(JSON.stringify(CONTROL_PLANE_REFRESH)))).toBe(true);
  });

  it('would have two or more members down if the refreshes ran concurrently (what instance_refresh on every ASG does): the check above can fail', async () => {
    const fake = cluster();
    const api = awsCliAutoScaling(production.region, fake.aws);
    const ids = await Promise.all(GROUPS.map((g) => api.startInstanceRefresh(g, CONTROL_PLANE_REFRESH)));
    for (let i = 0; i < 20; i++) await Promise.all(GROUPS.map((g, j) => api.describeInstanceRefresh(g, ids[j]!)));
    expect(fake.state.peakDown).toBe(3);
  });

  it('waits for the new node to be healthy behind the API load balancers, not only for the refresh to succeed', async () => {
    const fake = cluster();
    await roll(fake);
    const [a, b] = fake.refreshes;
    const startB = fake.calls.findIndex((c) => c.startsWith(`autoscaling start-instance-refresh --auto-scaling-group-name ${GROUPS[1]}`));
    const healthChecksAfterA = fake.calls.slice(0, startB).filter((c) => c.startsWith('elbv2 describe-target-health'));
    expect(a!.status).toBe('Successful');
    expect(b!.status).toBe('Successful');
    expect(healthChecksAfterA.length).toBeGreaterThanOrEqual(TARGET_GROUPS.length * 2);
  });

  it('rolls only the groups whose node is outdated', async () => {
    const fake = cluster([GROUPS[1]!]);
    expect((await roll(fake)).code).toBe(0);
    expect(fake.started).toEqual([GROUPS[1]]);
  });

  it('defers, starting nothing, while another member is down (an AZ outage must not fail every apply)', async () => {
    const fake = cluster();
    const c = fake.world.get(GROUPS[2]!)!;
    fake.targets.get(TARGET_GROUPS[0]!)!.set(c.instances[0]!.id, 'unhealthy');
    const { code, actions } = await roll(fake);
    expect(code).toBe(0);
    expect(fake.started).toEqual([]);
    expect(actions.summaries.join('\n')).toContain(`⚠️ deferred ${GROUPS.join(', ')} (${GROUPS[2]} ${c.instances[0]!.id} is unhealthy in ${TARGET_GROUPS[0]}; expected healthy (/readyz); rolling ${GROUPS[0]} now would take a second etcd member down): the next apply rolls them`);
  });

  it('counts a group whose AZ is down (no instance) as current and never refreshes it', async () => {
    // Before: one instance on an old version → a refresh started, "succeeded" with nothing to replace, then timed out on "0 instances".
    const fake = cluster([GROUPS[1]!]);
    fake.world.get(GROUPS[1]!)!.instances = [];
    const { code, actions } = await roll(fake);
    expect(code).toBe(0);
    expect(fake.started).toEqual([]);
    expect(actions.summaries.join('\n')).toContain(`rolled nothing; already current ${GROUPS.join(', ')}\n`);
  });

  it('stops at a failed refresh and leaves the other AZs alone', async () => {
    const fake = cluster();
    fake.state.failNext = true;
    const { code, errors } = await roll(fake);
    expect(code).toBe(1);
    expect(fake.started).toEqual([GROUPS[0]]);
    expect(errors.join('\n')).toMatch(/production-control-plane-a: instance refresh refresh-\d+ Failed: Instance refresh failed: the launching lifecycle hook was abandoned; stopped before the next AZ/);
  });

  it('gives up on a node that never serves within the timeout, before the next AZ', async () => {
    const fake = cluster();
    fake.state.targetsNeverHealthy = true;
    let clock = 0;
    await expect(
      rollControlPlane({ groups: GROUPS, api: awsCliAutoScaling(production.region, fake.aws), sleep: async () => void (clock += 60_000), now: () => clock, timeoutMs: 10 * 60_000 }),
    ).rejects.toThrow(/^production-control-plane-a: not serving after 10 min \(i-\S+ is initial in arn:\S+; expected healthy \(\/readyz\)\); stopped before the next AZ$/);
    expect(fake.started).toEqual([GROUPS[0]]);
  });

  it('after an apply (--stacks) rolls the clusters whose own stack applied, and nothing for ci-identity alone', async () => {
    const fake = cluster();
    const applied = await roll(fake, ['--stacks', JSON.stringify(['ci-identity', platform.namesOf(production).stack])]);
    expect(applied.code).toBe(0);
    expect(fake.started).toEqual(GROUPS);
    const idle = cluster();
    const none = await roll(idle, ['--stacks', '["ci-identity"]']);
    expect(none.code).toBe(0);
    expect(idle.started).toEqual([]);
    expect(none.actions.summaries.join('\n')).toContain('no cluster stack applied: nothing to roll');
  });

  it.each([
    [['--cluster', 'production', '--stacks', '[]'], '--cluster rolls one cluster; it excludes --stacks'],
    [[], '--cluster <name> or --stacks <JSON array of the applied stacks> is required'],
  ])('refuses %j', async (args, message) => {
    const { code, errors } = await roll(cluster(), args);
    expect(code).toBe(2);
    expect(errors.join('\n')).toContain(message);
  });
});
