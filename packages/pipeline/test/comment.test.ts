import { describe, expect, it } from 'vitest';
import { clusterMarker, clusterMarkerCluster, GITHUB_COMMENT_LIMIT, noLongerManifestOnlyComment, planMarker, planMarkerStack, renderClusterComment, renderPlanComment, type ClusterCommentInput, type PlanCommentInput } from '../src/pull-request/comment';
import { defaultPlatform } from '@platform/platform-config';
import { summarizePlan, type PlanJson } from '../src/pull-request/plan-summary';
import { protectedDestroys, protectedResourceRules } from '../src/apply/protected-resources';
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

describe('manifest-only cluster comment', () => {
  const cluster: ClusterCommentInput = {
    cluster: 'staging',
    haCheck: { exitCode: 1, markdown: '### ha-check: `staging` ❌ objectives not met\n\nweb has one replica' },
    manifests: {
      added: [],
      changed: [{ cluster: 'staging', kind: 'Deployment', namespace: 'apps', name: 'web', change: 'changed', fields: ['spec'], file: 'clusters/staging/apps/web.yaml' }],
      removed: [],
    },
    manifestsPath: platform.namesOf('staging').gitopsPath,
    commit: '0123456789abcdef0123',
    because: 'packages/k8s-addons/src/traefik.ts',
    artifact: 'cluster-staging',
  };

  it('starts with its own marker (never a plan marker), says why, unfolds a failed ha-check and lists the objects', () => {
    const body = renderClusterComment(cluster);
    expect(body.split('\n')[0]).toBe(clusterMarker('staging'));
    expect(clusterMarker('staging')).toBe('<!-- ha-kube-pipeline:cluster cluster=staging -->');
    expect(clusterMarkerCluster(body)).toBe('staging');
    expect(planMarkerStack(body)).toBeUndefined();
    expect(body).toContain('No Terraform stack of `staging` is affected; `packages/k8s-addons/src/traefik.ts` changes what Flux reconciles from `clusters/staging/`.');
    expect(body).toContain('#### HA check: ❌ objectives not met\n\n<details open><summary>ha-check report for `staging`</summary>');
    expect(body).toContain('#### Flux changes under `clusters/staging/`\n\n**0 added, 1 changed, 0 removed**');
    expect(body).toContain('| changed | Deployment | apps | web | spec |');
    expect(body.trimEnd().endsWith('<sub>commit `0123456789ab` · artifact `cluster-staging`</sub>')).toBe(true);
  });

  it('cuts the report and then the object list to fit the limit', () => {
    const many = Array.from({ length: 3000 }, (_, i) => ({ ...cluster.manifests.changed[0], name: `web-${i}` }));
    const big: ClusterCommentInput = { ...cluster, haCheck: { exitCode: 0, markdown: Array.from({ length: 4000 }, (_, i) => `line ${i}`).join('\n') }, manifests: { added: [], changed: many, removed: [] } };
    const body = renderClusterComment(big, 20_000);
    expect(body.length).toBeLessThanOrEqual(20_000);
    expect(body).toMatch(/> ✂️ ha-check report truncated: \d+ of 4000 lines shown; run `npx ha-check --cluster staging --format markdown` for all of it\./);
    expect(body).toMatch(/…and \d+ more objects \(see the artifact `cluster-staging`\)\./);
    expect(body.startsWith(clusterMarker('staging'))).toBe(true);
  });

  it('says when it is no longer a manifest-only change, marker kept', () => {
    expect(noLongerManifestOnlyComment('staging', '0123456789abcdef')).toBe(
      `${clusterMarker('staging')}\n\n### Manifests: cluster \`staging\`\n\nNo longer a manifest-only change of this pull request as of commit \`0123456789ab\`: either its manifests no longer change, or its stack's plan comment now carries the ha-check report and the Flux diff.\n`,
    );
  });
});
