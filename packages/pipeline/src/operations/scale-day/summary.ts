import { table } from '../../io/markdown';
import { judge, type ScaleDayRecord } from './samples';

/** The scale-day Markdown summary (job summary and artifact), from the record alone. */
export function renderScaleDaySummary(record: ScaleDayRecord, chartFile = 'scale-day.svg'): string {
  const v = judge(record);
  const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;
  const last = record.samples[record.samples.length - 1];
  const first = record.samples[0];
  const azs = Object.keys(v.nodesAdded);
  const peakReplicas = Math.max(0, ...record.samples.map((s) => s.replicas));
  const peakPending = Math.max(0, ...record.samples.map((s) => s.pendingPods));
  const p95Peak = Math.max(0, ...record.load.map((w) => w.p95Ms));
  const totals = record.totals;
  const objective = record.limits.scaleOutSeconds;
  const within = (t: number | null): boolean => t !== null && (objective === undefined || t <= objective);
  const objectiveText = objective !== undefined ? `within ${objective} s (objectives.scaleOutSeconds)` : 'no objective';
  const rows: string[][] = [
    totals ? ['error rate', pct(totals.errorRate), `≤ ${pct(record.limits.maxErrorRate)}`, totals.errorRate <= record.limits.maxErrorRate ? '✅' : '❌'] : ['error rate', 'not measured (no k6 summary)', `≤ ${pct(record.limits.maxErrorRate)}`, '❌'],
    totals ? ['p95 latency (run)', `${Math.round(totals.p95Ms)} ms`, `≤ ${record.limits.maxP95Ms} ms`, totals.p95Ms <= record.limits.maxP95Ms ? '✅' : '❌'] : ['p95 latency (run)', 'not measured (no k6 summary)', `≤ ${record.limits.maxP95Ms} ms`, '❌'],
    [
      'HPA desired replicas',
      v.expectReachedSeconds === null ? `at most ${v.peakDesired}` : `${v.expectReplicas} after ${v.expectReachedSeconds} s`,
      `${v.expectReplicas} (${record.limits.expectReplicas === undefined ? 'the HPA maximum' : '--expect-replicas'}) ${objectiveText}`,
      within(v.expectReachedSeconds) ? '✅' : '❌',
    ],
    [
      'scale-out',
      v.noScaleOut ? 'none observed (inconclusive)' : v.scaleOutSeconds === null ? 'never finished' : `${v.scaleOutSeconds} s`,
      objective !== undefined ? `≤ ${objective} s (objectives.scaleOutSeconds)` : 'no objective',
      !v.noScaleOut && within(v.scaleOutSeconds) ? '✅' : '❌',
    ],
    [
      'node scale-out',
      `${v.nodesScaled ? 'yes' : 'no'}: ${Object.entries(v.nodesPerAz).map(([az, n]) => `${az} ${n.before} → ${n.peak}`).join(', ') || 'no workers sampled'}`,
      record.limits.expectNodeScaleOut ? 'expected (the profile\'s peak needs more workers than stand)' : 'not expected',
      record.limits.expectNodeScaleOut ? (v.nodesScaled ? '✅' : '❌') : v.nodesScaled ? 'ℹ️' : '',
    ],
  ];
  return [
    `## Scale day: ${record.cluster} ${v.ok ? '✅' : '❌'}`,
    '',
    ...(record.source ? [`> **Not a real cluster:** ${record.source}.`, ''] : []),
    ...(record.problem ? [`> **Incomplete run:** ${record.problem}.`, ''] : []),
    `${record.rate} req/s, ${record.target.method ?? 'GET'}, on \`${record.target.host}\` through \`${record.target.url}\` (the cluster's own ingress), started ${record.startedAt}${record.loadStartWaitSeconds ? ` (k6 waited ${record.loadStartWaitSeconds} s for its pod to run)` : ''}: ramp up ${record.phases.rampUp} s, hold ${record.phases.hold} s, ramp down ${record.phases.rampDown} s; ${totals ? `${totals.requests} requests` : 'no k6 summary line in the Job log, so no request counts, error rate or latency'}.`,
    '',
    table(['check', 'measured', 'limit', ''], rows, ['l', 'r', 'l', 'l']),
    '',
    ...(v.failures.length > 0 ? [...v.failures.map((f) => `- ❌ ${f}`), ''] : []),
    `\`${record.workload}\` (HPA \`${record.hpa.name}\`, ${record.hpa.minReplicas}–${record.hpa.maxReplicas}): ${first?.replicas ?? 0} → peak ${peakReplicas} replicas (the HPA asked for at most ${v.peakDesired}), ${last?.replicas ?? 0} at the end; at most ${peakPending} pod(s) Pending in the cluster, ${Math.max(0, ...record.samples.map((s) => s.appPendingPods))} of the app's; ${record.load.length > 0 ? `p95 of the worst ${record.load[0].seconds} s window ${Math.round(p95Peak)} ms` : 'no latency windows (no k6 summary)'}.`,
    '',
    table(['AZ', 'Ready workers at the start', 'most during the run', 'added'], azs.map((az) => [az, String(first?.nodesPerAz[az] ?? 0), String(Math.max(0, ...record.samples.map((s) => s.nodesPerAz[az] ?? 0))), String(v.nodesAdded[az])]), ['l', 'r', 'r', 'r']),
    '',
    `Scale-out is timed from the load's start to the first sample with every replica the HPA asked for at its peak Ready and none of the app's pods Pending (${record.samples.length} samples). Chart: \`${chartFile}\`.`,
    '',
  ].join('\n');
}
