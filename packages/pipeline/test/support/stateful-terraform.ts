import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { TerraformRunner } from '../../src/io/terraform';
import type { PlanJson } from '../../src/pull-request/plan-summary';

/**
 * A TerraformRunner with Terraform's saved-plan semantics: each stack has a state (lineage
 * and serial); `plan -out=tfplan` writes a real plan file recording the state serial it was
 * made against; `apply tfplan` of a plan made against an older serial fails the way Terraform
 * does ("Saved plan is stale"), else it applies and bumps the serial. `planned` sets what
 * the next plan of a stack shows.
 */
export function statefulTerraform(planned: Record<string, PlanJson>) {
  const serial: Record<string, number> = {};
  const applied: { stack: string; planId: string }[] = [];
  let next = 0;
  const runner: TerraformRunner = (args, cwd) => {
    const stack = basename(cwd);
    serial[stack] ??= 1;
    if (args[0] === 'init') return { code: 0, stdout: 'Terraform has been successfully initialized!\n', stderr: '' };
    if (args[0] === 'plan') {
      const plan = planned[stack] ?? { format_version: '1.2', resource_changes: [] };
      const id = `${stack}-plan-${++next}`;
      writeFileSync(join(cwd, 'tfplan'), JSON.stringify({ id, serial: serial[stack], plan }));
      const n = (plan.resource_changes ?? []).length;
      return { code: n > 0 ? 2 : 0, stdout: `\nPlan: ${n} to change.\n`, stderr: '' };
    }
    if (args[0] === 'show') return { code: 0, stdout: JSON.stringify(JSON.parse(readFileSync(join(cwd, args.at(-1) as string), 'utf8')).plan), stderr: '' };
    if (args[0] === 'apply') {
      const file = JSON.parse(readFileSync(join(cwd, args.at(-1) as string), 'utf8')) as { id: string; serial: number };
      if (file.serial !== serial[stack]) return { code: 1, stdout: '', stderr: 'Error: Saved plan is stale\n\nThe given plan file can no longer be applied because the state was changed by another operation after the plan was created.\n' };
      serial[stack] += 1;
      applied.push({ stack, planId: file.id });
      return { code: 0, stdout: 'Apply complete!\n', stderr: '' };
    }
    return { code: 0, stdout: '', stderr: '' };
  };
  return {
    runner,
    applied,
    /** Another operation wrote the stack's state (e.g. a manual apply) after the plan. */
    touchState: (stack: string) => void (serial[stack] = (serial[stack] ?? 1) + 1),
  };
}
