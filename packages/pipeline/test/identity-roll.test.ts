import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrapNames, loadPlatform, platformInput, ServiceAccountIdentity, type ServiceAccountIdentityStage } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { applyApprovedPlans, planForApproval } from '../src/apply/approved-plan';
import { checkIdentityRoll, identityRollGuard, parseIdentityStageRecord } from '../src/apply/identity-roll';
import { protectedResourceRules } from '../src/apply/protected-resources';
import { awsCliIdentityRoll } from '../src/io/aws-identity-roll';
import { controlPlaneGroups } from '../src/operations/control-plane-roll';
import { preferredStackOrder } from '../src/pull-request/affected-stacks';
import { fakeAwsIdentity, type FakeInstance } from './support/fake-aws-identity';
import { fakeKms } from './support/fake-kms';
import { change } from './support/plans';
import { statefulTerraform } from './support/stateful-terraform';

/** The platform with production at `stage` (the others complete). */
const at = (stage: ServiceAccountIdentityStage) =>
  loadPlatform({ ...structuredClone(platformInput), clusters: platformInput.clusters.map((c) => (c.name === 'production' ? { ...c, serviceAccountIdentity: ServiceAccountIdentity.of(stage) } : c)) });

const platform = at('sign-with-issuer');
const cluster = platform.cluster('production');
const names = platform.namesOf(cluster);
const path = bootstrapNames(names).identityStageRecords;
const [groupA, groupB, groupC] = controlPlaneGroups(cluster, names) as [string, string, string];

/** Three control-plane nodes (one per AZ group), 25 records of replaced nodes, and a stopped and a pending one. */
async function cluster3(stages: readonly (string | undefined)[], options: { shortPages?: boolean } = {}) {
  const instances: FakeInstance[] = [
    { id: 'i-zz01', group: groupA, state: 'running' },
    { id: 'i-zz02', group: groupB, state: 'running' },
    { id: 'i-zz03', group: groupC, state: 'running' },
  ];
  const fake = fakeAwsIdentity({ instances, ...options });
  // Earlier nodes of the same groups: terminated (still listed by EC2, or already forgotten). Their
  // names sort before the live ones: a gate reading only the first page would miss the live records.
  for (let n = 0; n < 25; n++) {
    const id = `i-old${String(n).padStart(2, '0')}`;
    instances.push({ id, group: [groupA, groupB, groupC][n % 3]!, state: 'terminated' });
    await fake.boot(path, id, 'accept-issuer');
  }
  for (let n = 0; n < 10; n++) fake.forget(`i-old${String(n).padStart(2, '0')}`);
  fake.clock.now += 3 * 3600_000;
  for (const [i, stage] of stages.entries()) if (stage) await fake.boot(path, `i-zz0${i + 1}`, stage);
  return fake;
}

describe('checkIdentityRoll: a stage moves only once every running control-plane node runs the applied one', () => {
  it('refuses naming each running node that has not recorded the applied stage (a missing record counts as not rolled), and what to do', async () => {
    const fake = await cluster3(['accept-issuer', undefined, 'sign-with-issuer']);
    const result = await checkIdentityRoll({ cluster: platform.cluster('production'), names, applied: 'accept-issuer', api: awsCliIdentityRoll(cluster.region, fake.aws), now: () => fake.clock.now });
    expect(result.problem).toBe(
      `production: serviceAccountIdentity moves from accept-issuer to sign-with-issuer, but not every running control-plane node runs accept-issuer yet: i-zz02 (nothing recorded). ` +
        `The previous stage's roll has not finished (a token the other API servers sign would be refused there). Wait for the roll to finish ` +
        `(\`npm run pipeline:roll-control-plane -- --cluster production\` with the apply role rolls what is left), or replace those instances ` +
        `(their ASG launches one from the current launch template, which records accept-issuer at the end of its boot); then re-run this apply. Records: ${path}/<instance id>.`,
    );
  });

  it('refuses a node that still records the stage before the applied one (accept-issuer when sign-with-issuer is applied and web-identity comes)', async () => {
    const next = at('web-identity');
    const fake = await cluster3(['sign-with-issuer', 'accept-issuer', 'sign-with-issuer']);
    const result = await checkIdentityRoll({ cluster: next.cluster('production'), names, applied: 'sign-with-issuer', api: awsCliIdentityRoll(cluster.region, fake.aws), now: () => fake.clock.now });
    expect(result.problem).toContain(`not every running control-plane node runs sign-with-issuer yet: i-zz02 (stage=accept-issuer config=${'c'.repeat(64)})`);
  });

  it('passes once every running node recorded the applied stage (or already the next one); stopped and pending instances are not asked', async () => {
    const fake = await cluster3(['accept-issuer', 'accept-issuer', 'sign-with-issuer']);
    const instances = [{ id: 'i-stopped', group: groupA, state: 'stopped' }, { id: 'i-pending', group: groupB, state: 'pending' }];
    const lines: string[] = [];
    const api = awsCliIdentityRoll(cluster.region, async (args) => {
      const out = await fake.aws(args);
      if (args[1] !== 'describe-instances') return out;
      const listed = JSON.parse(out) as { Reservations: unknown[] };
      return JSON.stringify({ Reservations: [...listed.Reservations, ...instances.map((i) => ({ Instances: [{ InstanceId: i.id, State: { Name: i.state } }] }))] });
    });
    const result = await checkIdentityRoll({ cluster, names, applied: 'accept-issuer', api, log: (l) => lines.push(l), now: () => fake.clock.now });
    expect(result.problem).toBeUndefined();
    expect(lines.at(-1)).toBe('production: every running control-plane node (i-zz01, i-zz02, i-zz03) runs accept-issuer: moving to sign-with-issuer');
  });

  it('reads every page (at most 10 per call, best-effort short and empty pages) and removes exactly the records of terminated instances', async () => {
    for (const shortPages of [false, true]) {
      const fake = await cluster3(['accept-issuer', 'accept-issuer', 'accept-issuer'], { shortPages });
      const lines: string[] = [];
      const result = await checkIdentityRoll({ cluster, names, applied: 'accept-issuer', api: awsCliIdentityRoll(cluster.region, fake.aws), log: (l) => lines.push(l), now: () => fake.clock.now });
      expect(result.problem).toBeUndefined();
      const pages = fake.calls.filter((c) => c.startsWith('ssm get-parameters-by-path'));
      expect(pages.length).toBeGreaterThanOrEqual(3);
      for (const call of pages) expect(call).toContain(`--path ${path} --no-recursive --page-size 10 --max-items 10`);
      // Terminated (still listed) and forgotten by EC2 alike: 25 stale records gone, the live ones kept.
      expect(result.removed).toHaveLength(25);
      expect([...fake.parameters.keys()].sort()).toEqual(['i-zz01', 'i-zz02', 'i-zz03'].map((id) => `${path}/${id}`));
      expect(lines[0]).toMatch(/^production: removed the stage records of instances that are gone: /);
    }
  });

  it('keeps a fresh record of an instance EC2 does not list yet (eventually consistent), and removes it once it is old', async () => {
    const fake = await cluster3(['accept-issuer', 'accept-issuer', 'accept-issuer']);
    await fake.boot(path, 'i-new', 'accept-issuer');
    const check = () => checkIdentityRoll({ cluster, names, applied: 'accept-issuer', api: awsCliIdentityRoll(cluster.region, fake.aws), now: () => fake.clock.now });
    expect((await check()).removed).not.toContain(`${path}/i-new`);
    expect(fake.parameters.has(`${path}/i-new`)).toBe(true);
    fake.clock.now += 2 * 3600_000;
    expect((await check()).removed).toEqual([`${path}/i-new`]);
  });

  it('a reboot overwrites its own record (put-parameter --overwrite, version 2); a create-only put would fail', async () => {
    const fake = await cluster3(['accept-issuer', 'accept-issuer', 'accept-issuer']);
    await fake.boot(path, 'i-zz01', 'accept-issuer');
    expect(fake.parameters.get(`${path}/i-zz01`)?.version).toBe(2);
    await expect(fake.aws(['ssm', 'put-parameter', '--name', `${path}/i-zz01`, '--type', 'String', '--value', 'x'])).rejects.toThrow('ParameterAlreadyExists');
  });

  it('asks nothing when the stage does not move, for a new cluster, when the applied commit predates the field or is unknown (first apply)', async () => {
    const fake = fakeAwsIdentity({ instances: [{ id: 'i-1', group: groupA, state: 'running' }] });
    const api = awsCliIdentityRoll(cluster.region, fake.aws);
    for (const applied of ['sign-with-issuer', 'absent', undefined] as const) expect(await checkIdentityRoll({ cluster, names, applied, api })).toEqual({ removed: [] });
    // Before the field existed: only the first move (to accept-issuer) needs no record.
    const first = at('accept-issuer');
    expect(await checkIdentityRoll({ cluster: first.cluster('production'), names, applied: null, api })).toEqual({ removed: [] });
    expect(fake.calls).toEqual([]);
  });

  it('refuses two stages in one apply when the applied tag lags (sign-with-issuer applied, head complete), even with every node on the applied stage', async () => {
    const fake = await cluster3(['sign-with-issuer', 'sign-with-issuer', 'sign-with-issuer']);
    const result = await checkIdentityRoll({ cluster: at('complete').cluster('production'), names, applied: 'sign-with-issuer', api: awsCliIdentityRoll(cluster.region, fake.aws), now: () => fake.clock.now });
    expect(result.problem).toBe(
      'production: serviceAccountIdentity moves from sign-with-issuer (applied) to complete, 2 stages in one apply; the only stage this apply may move to is web-identity. ' +
        'The applied tag moves only at the end of an apply job that went through (inside the terraform-apply group, so never behind an apply that finished), hence the apply of the commit at web-identity failed, was cancelled or was not approved. ' +
        'Apply that commit first: re-run all jobs of its apply.yml run (apply, control-plane roll, applied tag; docs/runbooks/service-account-issuer.md), then re-run all jobs of this one.',
    );
    expect(fake.calls.filter((c) => !c.startsWith('ssm put-parameter'))).toEqual([]);
  });

  it('treats an applied commit without serviceAccountIdentity as before accept-issuer: a move past accept-issuer is refused, not skipped', async () => {
    const fake = fakeAwsIdentity({ instances: [{ id: 'i-1', group: groupA, state: 'running' }] });
    const result = await checkIdentityRoll({ cluster, names, applied: null, api: awsCliIdentityRoll(cluster.region, fake.aws) });
    expect(result.problem).toBe(
      'production: serviceAccountIdentity moves from no serviceAccountIdentity (applied) to sign-with-issuer, 2 stages in one apply; the only stage this apply may move to is accept-issuer. ' +
        'The applied tag moves only at the end of an apply job that went through (inside the terraform-apply group, so never behind an apply that finished), hence the apply of the commit at accept-issuer failed, was cancelled or was not approved. ' +
        'Apply that commit first: re-run all jobs of its apply.yml run (apply, control-plane roll, applied tag; docs/runbooks/service-account-issuer.md), then re-run all jobs of this one.',
    );
  });

  it('checks the nodes against the stage just before head: one step back (web-identity applied, head sign-with-issuer) accepts either, nothing older', async () => {
    const fake = await cluster3(['web-identity', 'sign-with-issuer', 'accept-issuer']);
    const result = await checkIdentityRoll({ cluster, names, applied: 'web-identity', api: awsCliIdentityRoll(cluster.region, fake.aws), now: () => fake.clock.now });
    expect(result.problem).toContain(`not every running control-plane node runs web-identity yet: i-zz03 (stage=accept-issuer`);
  });

  it('the first move after the records are delivered: a node without a record is accepted when the applied commit records none (it booted from it), a wrong record still refuses', async () => {
    const fake = await cluster3(['accept-issuer', undefined, undefined]);
    const lines: string[] = [];
    const check = (appliedRecords: boolean) => checkIdentityRoll({ cluster, names, applied: 'accept-issuer', appliedRecords, api: awsCliIdentityRoll(cluster.region, fake.aws), log: (l) => lines.push(l), now: () => fake.clock.now });
    expect((await check(true)).problem).toContain('i-zz02 (nothing recorded), i-zz03 (nothing recorded)');
    expect((await check(false)).problem).toBeUndefined();
    expect(lines).toContain("production: the applied commit's node-bootstrap records no identity stage; accepted without a record (booted from it): i-zz02, i-zz03");
    await fake.boot(path, 'i-zz03', 'web-identity');
    expect((await check(false)).problem).toContain('i-zz03 (stage=web-identity');
  });

  it('the guard passes what the applied commit declares about records to the check', async () => {
    const fake = await cluster3(['accept-issuer', undefined, 'accept-issuer']);
    const guard = (stageRecords: boolean) => identityRollGuard(platform, async () => ({ stages: { production: 'accept-issuer' }, stageRecords }), (c) => awsCliIdentityRoll(c.region, fake.aws), () => undefined);
    await expect(guard(true)(names.stack)).rejects.toThrow('i-zz02 (nothing recorded)');
    await expect(guard(false)(names.stack)).resolves.toBeUndefined();
  });

  it('fails closed: an SSM or EC2 error refuses the stack instead of passing blind', async () => {
    const guard = identityRollGuard(platform, async () => ({ stages: { production: 'accept-issuer' }, stageRecords: true }), () =>
      awsCliIdentityRoll(cluster.region, async (args) => {
        throw new Error(`aws ${args.join(' ')} failed (exit 254): An error occurred (AccessDeniedException)`);
      }),
    () => undefined);
    await expect(guard(names.stack)).rejects.toThrow('AccessDeniedException');
  });

  it('parses only what the node writes', () => {
    expect(parseIdentityStageRecord(`stage=web-identity config=${'a'.repeat(64)}\n`)).toEqual({ stage: 'web-identity', config: 'a'.repeat(64) });
    expect(parseIdentityStageRecord('web-identity')).toBeUndefined();
  });
});

describe('identityRollGuard in the merge apply', () => {
  it('refuses the approved plan of a cluster whose stage moves before its roll finished: nothing applied for it or after it; applies once the nodes caught up', async () => {
    const order = preferredStackOrder(platform);
    const root = mkdtempSync(join(tmpdir(), 'pipeline-identity-roll-'));
    const stacksDir = join(root, 'stacks');
    for (const s of order) mkdirSync(join(stacksDir, s), { recursive: true });
    const plans = Object.fromEntries(order.map((s) => [s, { format_version: '1.2', resource_changes: [change('aws_launch_template', 'cp', ['update'])] }]));
    const kms = fakeKms({ plan: ['GenerateDataKey'], apply: ['Decrypt'] });
    const sha = 'd'.repeat(40);
    const fake = await cluster3(['accept-issuer', undefined, 'accept-issuer']);
    const guard = identityRollGuard(platform, async () => ({ stages: { staging: 'complete', production: 'accept-issuer', dr: 'complete' }, stageRecords: true }), (c) => awsCliIdentityRoll(c.region, fake.aws), () => undefined);

    const first = statefulTerraform(plans);
    const outDir = join(root, 'artifact');
    await planForApproval({ stacks: order, order, stacksDir, rules: protectedResourceRules(platform), labels: async () => [], keys: kms.as('plan'), keyContext: { purpose: 'terraform-plan' }, commit: sha, outDir, maxAgeMs: 3_600_000, runner: first.runner });
    const refused = await applyApprovedPlans({ dir: outDir, stacksDir, keys: kms.as('apply'), commit: sha, runner: first.runner, echo: () => undefined, beforeStack: guard });
    const index = order.indexOf(names.stack);
    expect(refused.results.map((r) => r.status)).toEqual(order.map((_, i) => (i < index ? 'applied' : i === index ? 'refused' : 'not-applied')));
    expect(refused.results[index]!.message).toContain('i-zz02 (nothing recorded)');
    expect(first.applied.map((a) => a.stack)).toEqual(order.slice(0, index));

    // The replaced node booted and recorded the applied stage: the re-run applies.
    await fake.boot(path, 'i-zz02', 'accept-issuer');
    const again = statefulTerraform(plans);
    const outDir2 = join(root, 'artifact-2');
    await planForApproval({ stacks: order, order, stacksDir, rules: protectedResourceRules(platform), labels: async () => [], keys: kms.as('plan'), keyContext: { purpose: 'terraform-plan' }, commit: sha, outDir: outDir2, maxAgeMs: 3_600_000, runner: again.runner });
    const applied = await applyApprovedPlans({ dir: outDir2, stacksDir, keys: kms.as('apply'), commit: sha, runner: again.runner, echo: () => undefined, beforeStack: guard });
    expect(applied.ok).toBe(true);
    expect(again.applied.map((a) => a.stack)).toEqual(order);
  });
});
