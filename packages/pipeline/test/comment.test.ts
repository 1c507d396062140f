import { describe, expect, it } from 'vitest';
import { GITHUB_COMMENT_LIMIT, planMarker, renderPlanComment, type PlanCommentInput } from '../src/comment';
import { defaultPlatform } from '@platform/platform-config';
import { summarizePlan, type PlanJson } from '../src/plan-summary';
import { protectedDestroys, protectedResourceRules } from '../src/protected-resources';
import { change, recordedPlan, recordedPlanText } from './support/plans';

const platform = defaultPlatform();
const names = platform.namesOf('production');

function input(plan: PlanJson, overrides: Partial<PlanCommentInput> = {}): PlanCommentInput {
  const summary = summarizePlan(plan);
  return {
    stack: names.stack,
    cluster: 'production',
    summary,
    planText: recordedPlanText(),
    protectedDestroys: protectedDestroys(summary, protectedResourceRules(platform)),
    haCheck: { exitCode: 0, markdown: '### ha-check: `production` ✅ objectives met' },
    manifests: {
      added: [{ cluster: 'production', kind: 'Deployment', namespace: 'apps', name: 'web', change: 'added', fields: [], file: 'clusters/production/apps/web.yaml' }],
      changed: [],
      removed: [{ cluster: 'production', kind: 'ConfigMap', namespace: 'apps', name: 'old', change: 'removed', fields: [], file: 'clusters/production/apps/old.yaml' }],
    },
    manifestsPath: names.gitopsPath,
    commit: '0123456789abcdef0123',
    artifact: `plan-${names.stack}`,
    ...overrides,
  };
}

const destroyingPlan: PlanJson = {
  resource_changes: [
    change('aws_s3_bucket', 'etcd_backups', ['delete'], { bucket: names.etcdBackupBucket }),
    change('aws_autoscaling_group', 'cp_a', ['delete', 'create'], { name: names.controlPlaneAsg('ap-northeast-2a') }),
    change('aws_security_group', 'nodes', ['update'], { name: 'nodes' }),
    change('aws_lb', 'api', ['create']),
  ],
};

describe('renderPlanComment', () => {
  it('starts with the hidden marker of its stack, so the comment can be found and updated', () => {
    const body = renderPlanComment(input(recordedPlan()));
    expect(body.split('\n')[0]).toBe(planMarker('production-cluster'));
    expect(body).toContain('| 6 | 0 | 0 |');
  });

  it('calls out destroys and replacements above the counts, and the protected ones with the label to use', () => {
    const body = renderPlanComment(input(destroyingPlan));
    const caution = body.indexOf('[!CAUTION]');
    expect(caution).toBeGreaterThan(0);
    expect(caution).toBeLessThan(body.indexOf('| to add |'));
    expect(body).toContain('**1 to destroy, 1 to replace**');
    expect(body).toContain('> - **destroy** `aws_s3_bucket.etcd_backups` — 🛑 protected state or backup bucket');
    expect(body).toContain('> - **replace** `aws_autoscaling_group.cp_a` — 🛑 protected control-plane ASG (etcd quorum)');
    expect(body).toContain('`allow-protected-destroy` label');
    expect(body).toContain('| 2 | 1 | 2 |');
  });

  it('folds the plan, the ha-check report and the Flux object list', () => {
    const body = renderPlanComment(input(recordedPlan(), { haCheck: { exitCode: 1, markdown: 'zone a: quorum lost' } }));
    expect(body).toMatch(/<details><summary>Show plan \(\d+ lines\)<\/summary>/);
    expect(body).toContain('#### HA check: ❌ objectives not met');
    expect(body).toContain('<details open><summary>ha-check report for `production`</summary>');
    expect(body).toContain('#### Flux changes under `clusters/production/`');
    expect(body).toContain('**1 added, 0 changed, 1 removed**');
    expect(body).toContain('| removed | ConfigMap | apps | old |  |');
  });

  it('truncates the plan to fit the limit, says so and points at the artifact', () => {
    const huge = Array.from({ length: 20_000 }, (_, i) => `  + resource "aws_instance" "n${i}" { ami = "ami-${i}" }`).join('\n');
    const body = renderPlanComment(input(recordedPlan(), { planText: huge }));
    expect(body.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(body.length).toBeGreaterThan(GITHUB_COMMENT_LIMIT - 2_000);
    expect(body).toMatch(/✂️ Plan truncated to fit GitHub's comment limit: \d+ of 20000 lines shown\. The full plan is in the workflow artifact `plan-production-cluster`\./);
    expect(body).toContain('| 6 | 0 | 0 |');
    expect(body.trimEnd().endsWith('</sub>')).toBe(true);
  });

  it('also shrinks a huge ha-check report and object list when the plan alone cannot make room', () => {
    const many = Array.from({ length: 5_000 }, (_, i) => ({ cluster: 'production', kind: 'ConfigMap', namespace: 'apps', name: `cm-${i}`, change: 'added' as const, fields: [], file: 'x.yaml' }));
    const body = renderPlanComment(
      input(recordedPlan(), { haCheck: { exitCode: 0, markdown: 'line\n'.repeat(30_000) }, manifests: { added: many, changed: [], removed: [] } }),
    );
    expect(body.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(body).toContain('ha-check report truncated');
    expect(body).toMatch(/…and \d+ more objects/);
  });

  it('uses a longer fence when the plan text contains backticks', () => {
    const body = renderPlanComment(input(recordedPlan(), { planText: 'user_data = "```"' }));
    expect(body).toContain('````text\nuser_data = "```"\n````');
  });

  it('matches the snapshot for the recorded plan', () => {
    expect(renderPlanComment(input(recordedPlan(), { planText: 'Plan: 6 to add, 0 to change, 0 to destroy.' }))).toMatchSnapshot();
  });
});
