import type { Report } from '../report-types';

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const cores = (milli: number): string => `${(milli / 1000).toFixed(milli % 1000 === 0 ? 0 : 1)} CPU`;
const gib = (mib: number): string => `${(mib / 1024).toFixed(1)} GiB`;

/** Elasticity: every HPA at its maximum, with each AZ lost, and the time to get there term by term. */
export function elasticitySection(report: Report): string[] {
  const e = report.elasticity;
  if (!e) return [];
  const out = ['#### Elasticity (every HPA at its maximum)', '', `Peak: ${cell(e.basis)}. Requested at the peak: ${cores(e.peakRequested.cpuMilli)}, ${gib(e.peakRequested.memoryMiB)}.`, ''];
  out.push('| HPA | min → max | per pod | at max | spread | steps |', '| --- | --- | --- | --- | --- | --- |');
  for (const h of e.hpas) {
    const steps = [`${h.minReplicas}`, ...h.steps.map((s) => `${s.replicas} @${s.atSeconds}s`)].join(' → ');
    out.push(`| ${[h.workload, `${h.minReplicas} → ${h.maxReplicas}`, `${h.requests.cpuMilli}m / ${h.requests.memoryMiB}Mi`, `${cores(h.peakRequests.cpuMilli)} / ${gib(h.peakRequests.memoryMiB)}`, h.spread, steps].map(cell).join(' | ')} |`);
  }
  out.push('', `| Scenario | Fits | Worker nodes per AZ (peak / max) | Pods per AZ | Seconds${e.objectiveSeconds !== undefined ? ` (objective ${e.objectiveSeconds})` : ''} |`, '| --- | --- | --- | --- | --- |');
  for (const s of e.scenarios) {
    const nodes = s.nodesPerAz.map((n) => `${n.az.slice(-1)} ${n.nodes}/${n.maxNodes}`).join(', ');
    const pods = s.podsPerAz.map((p) => `${p.workload.split('/').pop()}: ${Object.values(p.perAz).join('/')}`).join('; ');
    const time = s.seconds === null ? 'never' : `${s.seconds}`;
    out.push(`| ${[s.id, s.fits ? '✅' : `❌ ${s.pending.map((p) => `${p.workload} ${p.pods} Pending`).join(', ')}`, nodes, pods, time].map(cell).join(' | ')} |`);
  }
  const first = e.scenarios[0];
  out.push('', `Time with every AZ up: ${first.terms.map((t) => `${t.name} ${t.seconds} s (${t.source})`).map(cell).join(' + ')}.`, '');
  return out;
}
