import { parse } from 'yaml';
import { ROLE_OUTPUTS, type CiRole, type RoleOutput } from './role-variables';

/**
 * The OIDC `sub` claim each workflow job presents to AWS, derived from the workflow YAML the
 * way GitHub builds it: `repo:<owner>/<repo>:environment:<env>` for a job with an
 * environment, else `:pull_request` for pull_request events, else `:ref:<ref>` (the default
 * branch for schedule and workflow_dispatch, main for push). Tests compare these with
 * the IAM trust policies.
 */

/** The step that derives the role ARNs and the region (see role-variables.ts). */
export const ROLE_VARIABLES_COMMAND = 'pipeline:role-variables';

export interface JobIdentity {
  readonly workflow: string;
  readonly job: string;
  readonly role: CiRole;
  readonly subjects: readonly string[];
}

interface WorkflowYaml {
  on?: Record<string, unknown> | string | string[];
  jobs?: Record<string, { environment?: string | { name: string }; steps?: { id?: string; uses?: string; run?: string; with?: Record<string, unknown> }[] }>;
}

function events(on: WorkflowYaml['on']): string[] {
  if (!on) return [];
  if (typeof on === 'string') return [on];
  if (Array.isArray(on)) return on;
  return Object.keys(on);
}

function pushBranches(on: WorkflowYaml['on']): string[] {
  const push = typeof on === 'object' && !Array.isArray(on) ? (on?.push as { branches?: string[] } | undefined) : undefined;
  return push?.branches ?? [];
}

export function jobIdentities(file: string, text: string, repository: string, defaultBranch: string): JobIdentity[] {
  const workflow = parse(text) as WorkflowYaml;
  const out: JobIdentity[] = [];
  for (const [job, spec] of Object.entries(workflow.jobs ?? {})) {
    const steps = spec.steps ?? [];
    for (const [index, step] of steps.entries()) {
      if (!step.uses?.startsWith('aws-actions/configure-aws-credentials@')) continue;
      const roleRef = String(step.with?.['role-to-assume'] ?? '');
      const ref = /^\$\{\{ steps\.([\w-]+)\.outputs\.(\w+) \}\}$/.exec(roleRef);
      const source = ref ? steps.slice(0, index).find((s) => s.id === ref[1]) : undefined;
      if (!ref || !(ref[2] in ROLE_OUTPUTS) || !source?.run?.includes(ROLE_VARIABLES_COMMAND)) {
        throw new Error(
          `${file}: job ${job} assumes ${JSON.stringify(roleRef)}; expected \${{ steps.<id>.outputs.<${Object.keys(ROLE_OUTPUTS).join('|')}> }} of an earlier step <id> that runs ${ROLE_VARIABLES_COMMAND}`,
        );
      }
      const environment = typeof spec.environment === 'string' ? spec.environment : spec.environment?.name;
      const subjects = new Set<string>();
      for (const event of events(workflow.on)) {
        if (environment) subjects.add(`repo:${repository}:environment:${environment}`);
        else if (event === 'pull_request') subjects.add(`repo:${repository}:pull_request`);
        else if (event === 'push') pushBranches(workflow.on).forEach((b) => subjects.add(`repo:${repository}:ref:refs/heads/${b}`));
        else if (event === 'schedule' || event === 'workflow_dispatch') subjects.add(`repo:${repository}:ref:refs/heads/${defaultBranch}`);
        else throw new Error(`${file}: job ${job} assumes a role on event ${event}, which this check does not model`);
      }
      out.push({ workflow: file, job, role: ROLE_OUTPUTS[ref[2] as RoleOutput], subjects: [...subjects].sort() });
    }
  }
  return out;
}

/** `token.actions.githubusercontent.com:sub` values of a role's trust policy JSON. */
export function trustedSubjects(assumeRolePolicy: string): string[] {
  const policy = JSON.parse(assumeRolePolicy) as { Statement: { Action: string | string[]; Condition?: Record<string, Record<string, string | string[]>> }[] };
  const subjects: string[] = [];
  for (const statement of policy.Statement) {
    for (const [operator, conditions] of Object.entries(statement.Condition ?? {})) {
      const sub = conditions['token.actions.githubusercontent.com:sub'];
      if (sub === undefined) continue;
      if (operator !== 'StringEquals') throw new Error(`trust policy matches sub with ${operator}; expected StringEquals (exact subjects, no wildcards)`);
      subjects.push(...(Array.isArray(sub) ? sub : [sub]));
    }
  }
  return subjects.sort();
}
