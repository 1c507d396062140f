import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultPlatform } from '@platform/platform-config';
import { applyApprovedPlans, planForApproval, sealedPlanFile, type PlanForApprovalOptions } from '../src/apply/approved-plan';
import { openPlan, readPlanHeader, sealPlan } from '../src/apply/plan-artifact';
import { comparePlans, renderPlanParity } from '../src/apply/plan-parity';
import { preferredStackOrder } from '../src/pull-request/affected-stacks';
import { planDigest, planDigestComment, readPlanDigest } from '../src/pull-request/plan-digest';
import { summarizePlan, type PlanJson } from '../src/pull-request/plan-summary';
import { protectedResourceRules } from '../src/apply/protected-resources';
import { fakeKms } from './support/fake-kms';
import { change } from './support/plans';
import { statefulTerraform } from './support/stateful-terraform';

const platform = defaultPlatform();
const order = preferredStackOrder(platform);
const [identity, dr] = order;
const SHA = 'a'.repeat(40);
const HOUR = 3_600_000;
const context = { purpose: 'terraform-plan', repository: 'o/r' };
const kms = () => fakeKms({ 'merge-plan': ['GenerateDataKey'], apply: ['Decrypt'] });

describe('sealed plan artifact', () => {
  const plan = Buffer.from('plan file holding prior state: {"password":"hunter2"}');
  const now = new Date('2026-12-04T10:00:00Z');

  it('round-trips: sealed by the plan role, opened by the apply role, the same bytes; the secret is not in the artifact', async () => {
    const k = kms();
    const sealed = await sealPlan({ plan, stack: dr, commit: SHA, keys: k.as('merge-plan'), context, now, maxAgeMs: 24 * HOUR });
    expect(sealed.includes(Buffer.from('hunter2'))).toBe(false);
    const opened = await openPlan(sealed, { stack: dr, commit: SHA, keys: k.as('apply'), now: new Date(now.getTime() + HOUR) });
    expect(opened.plan.equals(plan)).toBe(true);
    expect(opened.header.expiresAt).toBe('2026-12-05T10:00:00.000Z');
  });

  it('cannot be opened by the role that sealed it, and the apply role cannot make keys', async () => {
    const k = kms();
    const sealed = await sealPlan({ plan, stack: dr, commit: SHA, keys: k.as('merge-plan'), context, now, maxAgeMs: HOUR });
    await expect(openPlan(sealed, { stack: dr, commit: SHA, keys: k.as('merge-plan'), now })).rejects.toThrow(/AccessDeniedException: User: merge-plan is not authorized to perform: kms:Decrypt/);
    await expect(sealPlan({ plan, stack: dr, commit: SHA, keys: k.as('apply'), context, now, maxAgeMs: HOUR })).rejects.toThrow(/kms:GenerateDataKey/);
  });

  it('is refused once expired, before KMS is asked', async () => {
    const k = kms();
    const sealed = await sealPlan({ plan, stack: dr, commit: SHA, keys: k.as('merge-plan'), context, now, maxAgeMs: HOUR });
    const noDecrypt = { ...k.as('apply'), decryptDataKey: () => Promise.reject(new Error('KMS must not be asked')) };
    await expect(openPlan(sealed, { stack: dr, commit: SHA, keys: noDecrypt, now: new Date(now.getTime() + HOUR + 1) })).rejects.toThrow(
      `plan of ${dr} made at 2026-12-04T10:00:00.000Z expired at 2026-12-04T11:00:00.000Z; re-run the workflow to plan again`,
    );
  });

  it('fails authentication when its expiry is pushed back, and is refused for another stack or commit', async () => {
    const k = kms();
    const sealed = await sealPlan({ plan, stack: dr, commit: SHA, keys: k.as('merge-plan'), context, now, maxAgeMs: HOUR });
    const { header } = readPlanHeader(sealed);
    const forged = Buffer.from(sealed.toString('latin1').replace(header.expiresAt, '2099-12-04T11:00:00.000Z'), 'latin1');
    await expect(openPlan(forged, { stack: dr, commit: SHA, keys: k.as('apply'), now: new Date(now.getTime() + 2 * HOUR) })).rejects.toThrow(`sealed plan of ${dr} failed authentication`);
    await expect(openPlan(sealed, { stack: identity, commit: SHA, keys: k.as('apply'), now })).rejects.toThrow(`sealed plan is of ${dr} at aaaaaaaaaaaa; expected ${identity} at aaaaaaaaaaaa`);
  });
});

describe('plan for approval, then apply exactly that plan', () => {
  const plans: Record<string, PlanJson> = {
    [identity]: { format_version: '1.2', resource_changes: [] },
    [dr]: { format_version: '1.2', resource_changes: [change('aws_autoscaling_group', 'workers', ['update']), change('aws_s3_bucket', 'scratch', ['create'])] },
  };
  function setup() {
    const root = mkdtempSync(join(tmpdir(), 'pipeline-approved-'));
    const stacksDir = join(root, 'stacks');
    for (const s of order) mkdirSync(join(stacksDir, s), { recursive: true });
    const tf = statefulTerraform(plans);
    const k = kms();
    const base: PlanForApprovalOptions = { stacks: [dr, identity], order, stacksDir, rules: protectedResourceRules(platform), labels: async () => [], keys: k.as('merge-plan'), keyContext: context, commit: SHA, outDir: join(root, 'artifact'), maxAgeMs: 24 * HOUR, runner: tf.runner };
    return { root, stacksDir, tf, k, base };
  }

  it('applies the sealed plan file of each stack with changes, and nothing for a stack without', async () => {
    const { stacksDir, tf, k, base } = setup();
    const planned = await planForApproval(base);
    expect(planned.stacks.map((s) => [s.stack, s.status])).toEqual([
      [identity, 'no-changes'],
      [dr, 'planned'],
    ]);
    // The plan job's copy of the plan file is gone with its runner; the apply job only has the artifact.
    writeFileSync(join(stacksDir, dr, 'tfplan'), 'overwritten by a fresh checkout');
    const result = await applyApprovedPlans({ dir: base.outDir, stacksDir, keys: k.as('apply'), commit: SHA, runner: tf.runner, echo: () => undefined });
    expect(result.results.map((r) => [r.stack, r.status])).toEqual([
      [identity, 'no-changes'],
      [dr, 'applied'],
    ]);
    expect(tf.applied).toEqual([{ stack: dr, planId: `${dr}-plan-2` }]);
  });

  it('fails, as terraform does, when the state changed after the plan was approved; nothing is planned again', async () => {
    const { stacksDir, tf, k, base } = setup();
    await planForApproval(base);
    tf.touchState(dr);
    const result = await applyApprovedPlans({ dir: base.outDir, stacksDir, keys: k.as('apply'), commit: SHA, runner: tf.runner, echo: () => undefined });
    expect(result.ok).toBe(false);
    expect(result.results.find((r) => r.stack === dr)?.message).toContain('Saved plan is stale');
    expect(tf.applied).toEqual([]);
  });

  it('refuses an expired artifact and a manifest of another commit', async () => {
    const { stacksDir, tf, k, base } = setup();
    await planForApproval({ ...base, now: () => new Date('2026-12-01T00:00:00Z') });
    const late = await applyApprovedPlans({ dir: base.outDir, stacksDir, keys: k.as('apply'), commit: SHA, runner: tf.runner, now: () => new Date('2026-12-02T00:00:01Z'), echo: () => undefined });
    expect(late.results.find((r) => r.stack === dr)).toMatchObject({ status: 'failed', message: expect.stringContaining('expired at 2026-12-02T00:00:00.000Z') });
    await expect(applyApprovedPlans({ dir: base.outDir, stacksDir, keys: k.as('apply'), commit: 'b'.repeat(40), runner: tf.runner })).rejects.toThrow('approved plans are of aaaaaaaaaaaa; this run applies bbbbbbbbbbbb');
    expect(readFileSync(join(base.outDir, sealedPlanFile(dr))).subarray(0, 9).toString()).toBe('HAKPLAN1\n');
  });
});

describe('plan parity', () => {
  const pr = summarizePlan({ format_version: '1.2', resource_changes: [change('aws_autoscaling_group', 'workers', ['update']), change('aws_s3_bucket', 'scratch', ['create']), change('aws_instance', 'old', ['delete'])] });
  const merge = summarizePlan({ format_version: '1.2', resource_changes: [change('aws_autoscaling_group', 'workers', ['delete', 'create']), change('aws_s3_bucket', 'scratch', ['create']), change('aws_kms_key', 'new', ['create'])] });

  it('reads the digest the PR comment carries and names what only one plan has, or changes differently', () => {
    const digest = readPlanDigest(`hello\n${planDigestComment(planDigest(pr))}\nbody`);
    expect(digest).toEqual(planDigest(pr));
    const parity = comparePlans(digest!, planDigest(merge));
    const section = renderPlanParity(dr, parity, '#12');
    expect(section).toContain("#### `dr-cluster`: difference from the pull request's plan".replace('dr-cluster', dr));
    expect(section).toContain('| `aws_kms_key.new` | only at merge |  | create |');
    expect(section).toContain('| `aws_instance.old` | only in the pull request | delete |  |');
    expect(section).toContain('| `aws_autoscaling_group.workers` | changed differently | update | replace |');
    expect(section).not.toContain('aws_s3_bucket.scratch');
  });

  it('says so when both plans agree, and warns when the pull request showed no plan', () => {
    expect(renderPlanParity(dr, comparePlans(planDigest(pr), planDigest(pr)), '#12')).toContain('✅ Same resources and changes as the last plan of #12.');
    expect(renderPlanParity(dr, undefined, undefined)).toContain(`⚠️ No plan of \`${dr}\` was found on the merged pull request(s)`);
  });
});
