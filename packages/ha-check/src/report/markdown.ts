import type { AzScenario, RegionScenario, Report } from '../report-types';
import { recoveryCells, regionFacts, scenarioCells } from './cells';
import { ciRolesSection } from './ci-roles';
import { elasticitySection } from './elasticity';

/** Markdown table cells cannot hold pipes or newlines. */
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const MAX_FINDINGS = 50;

/** Mermaid has no escaping for quotes inside labels: keep labels to safe characters. */
const label = (text: string): string => text.replace(/["`]/g, "'");
const nodeId = (az: string): string => `az_${az.replace(/[^a-zA-Z0-9]/g, '_')}`;

/** Who can act on AWS: one row per workload and the role it acts as (web identity, node role through IMDS, static keys). */
function identitySection(report: Report): string[] {
  const rows = report.identities?.rows ?? [];
  if (rows.length === 0) return [];
  const out = ['#### Who can act on AWS', '', `Issuer \`${report.identities?.issuerHost ?? 'unknown'}\`${report.identities?.webhook ? ` · pod identity webhook ${report.identities.webhook}` : ' · no pod identity webhook'}`, '', '| Workload | Service account | Role | Path | Allowed |', '| --- | --- | --- | --- | --- |'];
  for (const r of rows) out.push(`| ${[r.workload, r.serviceAccount ?? '-', r.role ?? '-', r.path, r.actions.join('; ') || '-'].map(cell).join(' | ')} |`);
  out.push('');
  return out;
}

function diagram(report: Report): string {
  const scenarios = new Map(report.scenarios.filter((s): s is AzScenario => s.kind === 'az-loss').map((s) => [s.lost, s]));
  const lines = ['```mermaid', 'flowchart LR'];
  for (const t of report.topology) {
    const s = scenarios.get(t.az);
    const verdict = s?.survives ? 'cluster survives its loss' : 'its loss breaks the cluster';
    lines.push(`  subgraph ${nodeId(t.az)}["${label(`${t.az}: ${verdict}`)}"]`);
    lines.push(`    ${nodeId(t.az)}_cp["${label(`control plane x${t.controlPlaneNodes}`)}"]`);
    lines.push(`    ${nodeId(t.az)}_w["${label(`workers x${t.workerNodes}`)}"]`);
    lines.push(`    ${nodeId(t.az)}_nat["${label(t.natGateways.length > 0 ? `NAT x${t.natGateways.length}` : 'no NAT')}"]`);
    lines.push(`    ${nodeId(t.az)}_lb["${label(t.apiLoadBalancer ? 'API NLB node' : 'no API NLB subnet')}"]`);
    if (report.topology.some((x) => x.ingressLoadBalancer)) lines.push(`    ${nodeId(t.az)}_in["${label(t.ingressLoadBalancer ? 'ingress NLB node' : 'no ingress NLB subnet')}"]`);
    lines.push('  end');
    lines.push(`  class ${nodeId(t.az)} ${s?.survives ? 'ok' : 'bad'}`);
  }
  for (const t of report.topology) {
    for (const via of t.egressViaAzs.filter((z) => z !== t.az)) lines.push(`  ${nodeId(t.az)}_w -. "egress via another AZ" .-> ${nodeId(via)}_nat`);
  }
  lines.push('  classDef ok fill:#e6ffed,stroke:#2da44e');
  lines.push('  classDef bad fill:#ffebe9,stroke:#cf222e');
  lines.push('```');
  return lines.join('\n');
}

/** Flow matrix: one row per flow, one column per state (normal, then each AZ lost): passed / decided. */
export function flowMatrix(report: Report): string[] {
  if (report.flows.length === 0) return [];
  const azs = report.scenarios.filter((s): s is AzScenario => s.kind === 'az-loss');
  const names = [...new Set(report.flows.map((f) => f.flow))];
  const out = ['#### Network flows', '', `| Flow | Port | Normal | ${azs.map((s) => `lose ${s.lost}`).join(' | ')} |`, `| --- | --- | --- | ${azs.map(() => '---').join(' | ')} |`];
  const verdict = (decided: number, blocked: number, required: boolean): string => (blocked === 0 ? `✅ ${decided}` : `${required ? '❌' : '⚠️'} ${blocked} of ${decided} dropped`);
  for (const name of names) {
    const normal = report.flows.filter((f) => f.flow === name);
    const first = normal[0];
    const port = first.protocol === 'icmp' ? 'ICMP' : `${first.protocol.toUpperCase()} ${first.port ?? ''}`;
    // An AZ scenario decides the flows of the surviving AZs: as many as run there, blocked listed.
    const cells = azs.map((s) => {
      const blocked = s.flows.blocked.filter((f) => f.flow === name).length;
      return blocked === 0 ? '✅' : verdict(blocked, blocked, first.required).replace(/ of \d+/, '');
    });
    out.push(`| ${[name, port, verdict(normal.length, normal.filter((f) => !f.ok).length, first.required), ...cells].map(cell).join(' | ')} |`);
  }
  const dropped = report.flows.filter((f) => !f.ok);
  const seen = new Set<string>();
  for (const f of dropped) {
    const key = `${f.flow}\u0000${f.droppedAt}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push('', `- **${cell(f.flow)}** ${cell(f.from)} → ${cell(f.to)}: ${cell(f.path.join(' → '))} ✂ dropped at ${cell(f.droppedAt ?? '?')}: ${cell(f.reason ?? '')}`);
  }
  out.push('');
  return out;
}

/** Cold start: the boot order proved (or the cycle that blocks it), as a Mermaid flow of the steps. */
export function coldStartSection(report: Report): string[] {
  const cs = report.coldStart;
  if (!cs.firstControlPlane) return [];
  const out = ['#### Cold start (day 0)', ''];
  const phases = [cs.firstControlPlane, ...(cs.cluster ? [cs.cluster] : []), ...cs.workerJoins];
  out.push(`Bootstrap add-ons: ${cell(cs.bootstrapSource ?? 'none found')}. ${phases.map((p) => `${p.node}: ${p.ok ? '✅ up' : '❌ never up'}`).join(' · ')}`);
  out.push('', '```mermaid', 'flowchart TD');
  const steps = [...cs.firstControlPlane.steps, ...(cs.cluster?.steps ?? [])].slice(0, 40);
  steps.forEach((step, i) => {
    out.push(`  s${i}["${label(`${i + 1}. ${step}`)}"]`);
    if (i > 0) out.push(`  s${i - 1} --> s${i}`);
  });
  const blocked = phases.find((p) => !p.ok);
  if (blocked) {
    out.push(`  blocked["${label(`BLOCKED (${blocked.node}): ${blocked.blockedBy.join(' / ')}`)}"]`);
    if (steps.length > 0) out.push(`  s${steps.length - 1} --> blocked`);
    out.push('  class blocked bad', '  classDef bad fill:#ffebe9,stroke:#cf222e');
  }
  out.push('```', '');
  return out;
}

/** PR comment: verdict first, then scenarios, findings and the AZ diagram. */
export function formatMarkdown(report: Report): string {
  const { summary } = report;
  const out: string[] = [];
  out.push(`### ha-check${report.cluster ? `: \`${report.cluster}\`` : ''} ${summary.objectivesMet ? '✅ objectives met' : '❌ objectives not met'}`);
  out.push('');
  const o = report.objectives;
  const promises = [
    o.tolerateAzLoss ? 'survive any one AZ' : 'AZ loss tolerated: no',
    o.tolerateRegionLoss ? 'survive the region (standby)' : undefined,
    o.requireCrossRegionBackups ? 'backups in another region' : undefined,
    o.apiRtoSeconds !== undefined ? `API RTO ${o.apiRtoSeconds} s` : undefined,
    o.appRtoSeconds !== undefined ? `app RTO ${o.appRtoSeconds} s` : undefined,
    o.rpoMinutes !== undefined ? `RPO ${o.rpoMinutes} min` : undefined,
    o.scaleOutSeconds !== undefined ? `scale-out ${o.scaleOutSeconds} s` : undefined,
  ].filter((p) => p !== undefined);
  out.push(`**${summary.errors} error(s), ${summary.warnings} warning(s)** · region \`${report.region ?? 'unknown'}\`, ${report.azs.length} AZs · objectives (${o.source}): ${promises.join(', ')}`);
  out.push('');
  out.push('| Scenario | Survives | etcd | API | Ingress | Egress | Capacity | Workloads | API RTO | Pod RTO | App RTO |');
  out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const s of report.scenarios) out.push(`| ${[s.id, s.survives ? '✅' : '❌', ...scenarioCells(s), ...recoveryCells(s)].map(cell).join(' | ')} |`);
  out.push('');
  const problems = report.scenarios.filter((s) => s.problems.length > 0);
  for (const s of problems) out.push(`- **${s.id}**: ${cell(s.problems.join('; '))}`);
  if (problems.length > 0) out.push('');
  out.push(...flowMatrix(report));
  out.push(...coldStartSection(report));
  out.push(...elasticitySection(report));
  out.push(...identitySection(report));
  out.push(...ciRolesSection(report));
  const region = report.scenarios.find((s): s is RegionScenario => s.kind === 'region-loss');
  if (region) {
    out.push(`#### Region loss (\`${region.lost}\`)`);
    out.push('');
    out.push('| | |');
    out.push('| --- | --- |');
    for (const [k, v] of regionFacts(region)) out.push(`| ${cell(k)} | ${cell(v)} |`);
    out.push('');
  }
  if (report.findings.length > 0) {
    out.push('#### Findings');
    out.push('');
    out.push('| Severity | Id | Subject | Finding | Fix |');
    out.push('| --- | --- | --- | --- | --- |');
    const icon = { error: '🔴 error', warning: '🟡 warning', info: '🔵 info' } as const;
    for (const f of report.findings.slice(0, MAX_FINDINGS)) out.push(`| ${[icon[f.severity], `\`${f.id}\``, f.subject, f.message, f.fix].map(cell).join(' | ')} |`);
    if (report.findings.length > MAX_FINDINGS) out.push(`\n…and ${report.findings.length - MAX_FINDINGS} more (run \`npx ha-check --format json\`).`);
    out.push('');
  }
  out.push('<details><summary>AZs and what survives</summary>');
  out.push('');
  out.push(diagram(report));
  out.push('');
  out.push(`Recovery estimates: API = health-check interval × unhealthy threshold; pods = node-monitor grace (${report.assumptions.nodeMonitorGracePeriodSeconds} s, ${report.assumptions.nodeMonitorGracePeriodSource}) + unreachable toleration (default ${report.assumptions.defaultUnreachableTolerationSeconds} s); new capacity ≈ ${report.assumptions.capacityRecoverySeconds} s.`);
  out.push('</details>');
  return `${out.join('\n')}\n`;
}
