import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PlanJson, ResourceChange } from '../../src/pull-request/plan-summary';

export const FIXTURES = join(__dirname, '..', 'fixtures');

/** A real offline plan of the ci-identity stack (terraform 1.11.4, AWS provider 5.100.0): 6 creates. */
export function recordedPlan(): PlanJson {
  return JSON.parse(readFileSync(join(FIXTURES, 'ci-identity.plan.json'), 'utf8')) as PlanJson;
}

export function recordedPlanText(): string {
  return readFileSync(join(FIXTURES, 'ci-identity.plan.txt'), 'utf8');
}

/** A resource change in Terraform's JSON plan format. */
export function change(type: string, name: string, actions: string[], before: Record<string, unknown> | null = null): ResourceChange {
  return { address: `${type}.${name}`, mode: 'managed', type, name, change: { actions, before, after: actions.includes('delete') && actions.length === 1 ? null : {} } };
}
