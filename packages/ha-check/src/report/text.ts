import type { RegionScenario, Report, Scenario } from '../report-types';
import { recoveryCells, regionFacts, scenarioCells } from './cells';

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

function scenarioRow(s: Scenario): string[] {
  return [s.id, s.survives ? 'yes' : 'NO', ...scenarioCells(s), ...recoveryCells(s)];
}

/** Terminal report: verdict, scenario table, findings with their fixes. */
export function formatText(report: Report): string {
  const lines: string[] = [];
  const verdict = report.summary.objectivesMet ? 'OBJECTIVES MET' : 'OBJECTIVES NOT MET';
  lines.push(`ha-check ${report.cluster ?? ''} (${report.region ?? 'unknown region'}, ${report.azs.length} AZs): ${verdict}`.replace('  ', ' '));
  lines.push(`${report.summary.errors} error(s), ${report.summary.warnings} warning(s), ${report.summary.infos} info · objectives: ${report.objectives.source} · ${report.summary.terraformResources} Terraform resources, ${report.summary.kubernetesObjects} Kubernetes objects`);
  lines.push('');
  lines.push(table([['scenario', 'survives', 'etcd', 'API', 'ingress', 'egress', 'capacity', 'workloads', 'API RTO', 'pod RTO', 'app RTO'], ...report.scenarios.map(scenarioRow)]));
  for (const s of report.scenarios.filter((x) => x.problems.length > 0)) lines.push(`  ${s.id}: ${s.problems.join('; ')}`);
  lines.push('');
  const region = report.scenarios.find((s): s is RegionScenario => s.kind === 'region-loss');
  if (region) {
    lines.push(`region loss (${region.lost}):`);
    for (const [k, v] of regionFacts(region)) lines.push(`  ${k.padEnd(18)} ${v}`);
    lines.push('');
  }
  if (report.elasticity) {
    const e = report.elasticity;
    lines.push(`elasticity (every HPA at its maximum${e.objectiveSeconds !== undefined ? `, objective ${e.objectiveSeconds} s` : ''}):`);
    for (const s of e.scenarios) lines.push(`  ${s.id.padEnd(24)} ${s.fits ? 'fits' : `DOES NOT FIT (${s.pending.map((p) => `${p.workload} ${p.pods} Pending`).join(', ')})`}, ${s.seconds === null ? 'never' : `${s.seconds} s`}`);
    lines.push('');
  }
  if (report.findings.length === 0) lines.push('No findings.');
  for (const f of report.findings) {
    lines.push(`${f.severity.toUpperCase().padEnd(7)} ${f.id}  ${f.subject}`);
    lines.push(`        ${f.message}`);
    lines.push(`        fix: ${f.fix}`);
  }
  return `${lines.join('\n')}\n`;
}
