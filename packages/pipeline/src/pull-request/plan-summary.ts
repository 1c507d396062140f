/**
 * Reads `terraform show -json <planfile>` output into the numbers and call-outs a reviewer
 * needs first. Counts follow Terraform's own "Plan: X to add, Y to change, Z to destroy":
 * a replacement counts once as an add and once as a destroy.
 */

/** The part of Terraform's JSON plan format this package reads. */
export interface PlanJson {
  readonly format_version?: string;
  readonly terraform_version?: string;
  readonly resource_changes?: readonly ResourceChange[];
  readonly output_changes?: Readonly<Record<string, { readonly actions: readonly string[] }>>;
}

export interface ResourceChange {
  readonly address: string;
  readonly mode?: 'managed' | 'data';
  readonly type: string;
  readonly name: string;
  readonly change: {
    readonly actions: readonly string[];
    readonly before?: unknown;
    readonly after?: unknown;
  };
  readonly action_reason?: string;
}

export type ChangeKind = 'create' | 'update' | 'delete' | 'replace' | 'read' | 'no-op' | 'forget';

export interface ChangedResource {
  readonly address: string;
  readonly type: string;
  readonly kind: ChangeKind;
  readonly before: Record<string, unknown> | undefined;
  readonly reason: string | undefined;
}

export interface PlanSummary {
  readonly add: number;
  readonly change: number;
  readonly destroy: number;
  /** Resources deleted without a replacement. */
  readonly deletions: readonly ChangedResource[];
  readonly replacements: readonly ChangedResource[];
  /** Every managed resource with a real change, in plan order. */
  readonly changes: readonly ChangedResource[];
  readonly hasChanges: boolean;
}

export function changeKind(actions: readonly string[]): ChangeKind {
  const key = actions.join(',');
  switch (key) {
    case 'create':
    case 'update':
    case 'delete':
    case 'read':
    case 'no-op':
    case 'forget':
      return key;
    case 'delete,create':
    case 'create,delete':
      return 'replace';
    default:
      throw new Error(`unknown Terraform plan actions ${JSON.stringify(actions)}; expected one of create, update, delete, read, no-op, forget, [delete,create], [create,delete]`);
  }
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export function summarizePlan(plan: PlanJson): PlanSummary {
  const changes: ChangedResource[] = [];
  for (const rc of plan.resource_changes ?? []) {
    if (rc.mode === 'data') continue;
    const kind = changeKind(rc.change.actions);
    if (kind === 'no-op' || kind === 'read') continue;
    changes.push({ address: rc.address, type: rc.type, kind, before: asRecord(rc.change.before), reason: rc.action_reason });
  }
  const count = (...kinds: ChangeKind[]) => changes.filter((c) => kinds.includes(c.kind)).length;
  const outputChanges = Object.values(plan.output_changes ?? {}).some((o) => !o.actions.every((a) => a === 'no-op'));
  return {
    add: count('create', 'replace'),
    change: count('update'),
    destroy: count('delete', 'replace'),
    deletions: changes.filter((c) => c.kind === 'delete'),
    replacements: changes.filter((c) => c.kind === 'replace'),
    changes,
    hasChanges: changes.length > 0 || outputChanges,
  };
}

const SYMBOL: Record<ChangeKind, string> = { create: '+', update: '~', delete: '-', replace: '-/+', read: '<=', 'no-op': ' ', forget: '.' };

/** A compact one-line-per-resource rendering, used when Terraform's own text is not at hand. */
export function renderPlanLines(summary: PlanSummary): string {
  const lines = summary.changes.map((c) => `${SYMBOL[c.kind].padStart(3)} ${c.address}`);
  lines.push('', `Plan: ${summary.add} to add, ${summary.change} to change, ${summary.destroy} to destroy.`);
  return lines.join('\n');
}
