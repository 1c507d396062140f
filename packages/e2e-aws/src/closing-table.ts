import type { BootResult } from './boot';
import type { DriftResult } from './drift';
import type { FailoverResult } from './failover';
import { describePeak, type MemoryPeak } from './memory-sampler';
import type { Exclusion } from './stack-copy';

/** One stack's results over the run. */
export interface StackRow {
  stack: string;
  applied?: number;
  excluded: Exclusion[];
  applySeconds?: number;
  changesAfterApply?: number;
  /** `plan -detailed-exitcode` right after apply: 0 no changes, 2 changes. */
  planExitCode?: number;
  artefactsIgnored?: number;
  changedAddresses: string[];
  protectedAddresses: string[];
  destroy?: string;
  /** checkov on the plan JSON after apply: failed checks, and how many no baseline entry covers. */
  planChecks?: { failed: number; fresh: number };
  error?: string;
}

export interface ClosingTableInput {
  readonly rows: readonly StackRow[];
  readonly heading: string;
  readonly seconds: number;
  readonly memoryPeak?: MemoryPeak;
  readonly peakMoto?: number;
  readonly boot?: BootResult;
  readonly failover?: FailoverResult;
  readonly drift?: DriftResult;
  /** The commit the run synthesized from (`git rev-parse --short HEAD`, plus whether the tree had changes). */
  readonly revision: string;
}

const cell = (v: number | string | undefined) => (v === undefined ? '–' : String(v));

/** Changes after apply as the run measured them: the count, the plan's own exit code, the artefact-only resources the harness let pass. */
const changesCell = (r: StackRow) =>
  r.changesAfterApply === undefined ? '–' : `${r.changesAfterApply}${r.planExitCode === undefined ? '' : ` (plan exit ${r.planExitCode}${r.artefactsIgnored ? `, ${r.artefactsIgnored} artefact-only` : ''})`}`;

/** Destroy as it ended, with the protected resources whose prevent_destroy the e2e copy lifted. */
const destroyCell = (r: StackRow) => `${cell(r.destroy)}${r.destroy !== undefined && r.protectedAddresses.length > 0 ? ` (${r.protectedAddresses.length} protected, lifted)` : ''}${r.error ? ' (error)' : ''}`;

/**
 * The closing table of docs/e2e.md, as the run wrote it (dist/e2e-aws/closing-table.md): one row
 * per stack (applied, excluded, changes after apply, destroy, checkov on the plan failed / new),
 * the phases' verdicts, run time and peak memory. Pasted unchanged, so the document says what a
 * run printed, not what someone retyped.
 */
export function closingTable(input: ClosingTableInput): string {
  const { rows, boot, failover, drift } = input;
  const lines = [
    `Result ${input.heading}, from ${input.revision}, ${new Date().toISOString().slice(0, 10)}.`,
    '',
    '| stack | applied | excluded | changes after apply | destroy | checkov on plan (failed / new) |',
    '| --- | ---: | ---: | ---: | --- | ---: |',
    ...rows.map((r) => `| ${r.stack} | ${cell(r.applied)} | ${r.excluded.length} | ${changesCell(r)} | ${destroyCell(r)} | ${r.planChecks ? `${r.planChecks.failed} / ${r.planChecks.fresh}` : '–'} |`),
    '',
    `- boot: ${boot ? `${boot.ok ? '✅' : '❌'} ${boot.checks.filter((c) => c.ok).length}/${boot.checks.length} checks on ${boot.stack}, changes after the boot ${cell(boot.changesAfterBoot)}` : 'not run'}`,
    `- failover: ${failover ? `${failover.ok ? '✅' : '❌'} ${failover.checks.filter((c) => c.ok).length}/${failover.checks.length} checks` : 'not run'}`,
    `- drift: ${drift ? (drift.ok ? '✅' : '❌') : 'not run'}`,
    `- run time ${input.seconds.toFixed(0)} s`,
    `- ${input.memoryPeak ? describePeak(input.memoryPeak) : 'peak memory not measured'}; moto's own peak (VmHWM) ${cell(input.peakMoto)} MiB`,
  ];
  return lines.join('\n');
}
