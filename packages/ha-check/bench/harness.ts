import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { defaultPlatform } from '@platform/platform-config';
import { runHaCheck } from '../src/ha-check';
import { objectivesForCluster, type Objectives } from '../src/objectives';
import { FAILOVER_WORKFLOW } from '../src/promotion';
import { PROMOTION_PHASE_SECONDS, promotionEstimateSeconds } from '../src/recovery-times';
import { formatMarkdown } from '../src/report/markdown';
import { REPO_ROOT } from './pinned-charts';
import { syntheticCiIdentity } from './synthetic-ci-identity';
import { syntheticCluster, writeSyntheticCluster } from './synthetic-cluster';

export interface HaCheckBenchResult {
  readonly objects: number;
  /** The primary cluster's stack. */
  readonly terraformResources: number;
  /** The standby cluster's stack (the region analysis reads it). */
  readonly standbyResources: number;
  /** The CI identity stack (the CI role analysis reads it). */
  readonly ciIdentityResources: number;
  readonly ciRoles: number;
  readonly regionScenario: boolean;
  readonly kubernetesObjects: number;
  /** Load (JSON + YAML parse), model, analysis and Markdown rendering; generation excluded. */
  readonly wallMs: number;
  /** CPU time (user + system) of the same section: wall time minus waiting on a busy machine. */
  readonly cpuMs: number;
  readonly peakRssMiB: number;
  readonly findings: number;
  readonly objectivesMet: boolean;
  readonly findingIds: readonly string[];
}

/** The platform's primary and its standby: the bench runs what `npx ha-check --cluster <primary>` runs. */
const PRIMARY = 'production';

/**
 * The objectives `--cluster production` judges (platform-config), with the scripted promotion the
 * repository's failover workflow provides (the CLI finds it on disk; the bench states it so it does
 * not depend on the checkout's other files).
 */
function benchObjectives(): Objectives {
  const objectives = objectivesForCluster(PRIMARY);
  return { ...objectives, promotion: { workflow: FAILOVER_WORKFLOW, command: `npm run failover -- promote --standby ${objectives.standbyCluster}`, estimatedSeconds: promotionEstimateSeconds(), phases: { ...PROMOTION_PHASE_SECONDS } } };
}

/**
 * ha-check on a generated deployment of about `objects` objects (Terraform resources plus
 * Kubernetes objects), shaped like the platform's: the primary cluster with a Route 53 failover
 * record, its standby cluster's stack (region analysis) and the CI identity stack (CI roles),
 * written to a temporary folder and read back the way the CLI reads it.
 */
export function benchmarkHaCheck(objects = 10_000): HaCheckBenchResult {
  const platform = defaultPlatform();
  const primary = platform.cluster(PRIMARY);
  const objectives = benchObjectives();
  const standby = platform.cluster(objectives.standbyCluster!);
  // A warm standby: it runs the primary's minimum, so a promotion waits for no new worker.
  const workersPerAz = { min: 20, max: 60 };
  const primaryOptions = { name: primary.name, region: primary.region, azs: primary.availabilityZones, dns: { role: 'PRIMARY' as const }, operatorCidrs: objectives.apiAllowedCidrs, workersPerAz };
  const standbyCluster = syntheticCluster({ name: standby.name, region: standby.region, azs: standby.availabilityZones, replicaRegion: standby.backups.replicaRegion ?? null, dns: { role: 'SECONDARY' }, workersPerAz });
  const ci = syntheticCiIdentity(platform);
  const count = (c: { terraform: Record<string, unknown> }): number => Object.values(c.terraform.resource as Record<string, object>).reduce((s, byName) => s + Object.keys(byName).length, 0);
  const base = syntheticCluster(primaryOptions);
  const baseCount = count(base) + count(standbyCluster) + count({ terraform: ci }) + Object.values(base.manifests).reduce((s, l) => s + l.length, 0);
  // Each generated app is a Deployment, Service, PDB and HPA.
  const cluster = syntheticCluster({ ...primaryOptions, generatedApps: Math.max(0, Math.ceil((objects - baseCount) / 4)) });
  const root = mkdtempSync(join(tmpdir(), 'ha-check-bench-'));
  try {
    const paths = writeSyntheticCluster(root, cluster);
    const standbyPaths = writeSyntheticCluster(join(root, 'standby'), standbyCluster);
    const ciDir = join(root, 'stacks', platform.names.ciIdentityStack);
    mkdirSync(ciDir, { recursive: true });
    writeFileSync(join(ciDir, 'cdk.tf.json'), `${JSON.stringify(ci, null, 2)}\n`);
    const started = performance.now();
    const cpu = process.cpuUsage();
    const report = runHaCheck({ terraform: [paths.terraform], manifests: paths.manifests, standbyTerraform: [standbyPaths.terraform], ciIdentityTerraform: [ciDir], cluster: PRIMARY, objectives, builder: 'files', charts: join(REPO_ROOT, '..', 'shared', 'charts') });
    formatMarkdown(report);
    const wallMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    return {
      objects: report.summary.terraformResources + report.summary.kubernetesObjects + count({ terraform: standbyCluster.terraform }) + count({ terraform: ci }),
      terraformResources: report.summary.terraformResources,
      standbyResources: count(standbyCluster),
      ciIdentityResources: count({ terraform: ci }),
      ciRoles: report.ciIdentities?.length ?? 0,
      regionScenario: report.scenarios.some((s) => s.kind === 'region-loss'),
      kubernetesObjects: report.summary.kubernetesObjects,
      wallMs: Math.round(wallMs),
      cpuMs: Math.round((used.user + used.system) / 1000),
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
      findings: report.findings.length,
      objectivesMet: report.summary.objectivesMet,
      findingIds: [...new Set(report.findings.map((f) => f.id))],
      ...(process.env.BENCH_DEBUG ? { debug: report.findings.map((f) => `${f.id} ${f.severity} ${f.subject}: ${f.message}`) } : {}),
    };
  } finally {
    if (!process.env.BENCH_KEEP) rmSync(root, { recursive: true, force: true });
    else process.stderr.write(`kept ${root}\n`);
  }
}

/** The goal: the whole check of 10,000 objects in at most one second. */
export const HA_CHECK_GOAL_MS = 1000;

export interface HaCheckBenchVerdict {
  readonly cpuGoalMet: boolean;
  readonly wallGoalMet: boolean;
  /** One line for the terminal: the numbers against the goal, and GOAL MISSED when it is. */
  readonly line: string;
}

/**
 * Judges a bench run against HA_CHECK_GOAL_MS. CPU time is the code's cost; wall time also
 * counts waiting for a core, so a wall miss with the CPU time inside the goal on a machine whose
 * load average exceeds its cores is reported as the machine being busy, not as the code.
 */
export function judgeHaCheckBench(result: Pick<HaCheckBenchResult, 'objects' | 'wallMs' | 'cpuMs'>, machine: { readonly loadAverage: number; readonly cpuCount: number }): HaCheckBenchVerdict {
  const cpuGoalMet = result.cpuMs <= HA_CHECK_GOAL_MS;
  const wallGoalMet = result.wallMs <= HA_CHECK_GOAL_MS;
  const numbers = `ha-check bench: ${result.objects} objects, ${result.wallMs} ms wall, ${result.cpuMs} ms CPU (goal ≤ ${HA_CHECK_GOAL_MS} ms; load average ${machine.loadAverage} on ${machine.cpuCount} CPUs)`;
  if (!cpuGoalMet) return { cpuGoalMet, wallGoalMet, line: `${numbers}\nGOAL MISSED: CPU time ${result.cpuMs} ms > ${HA_CHECK_GOAL_MS} ms` };
  if (!wallGoalMet) {
    const busy = machine.loadAverage > machine.cpuCount;
    return { cpuGoalMet, wallGoalMet, line: `${numbers}\nGOAL MISSED: wall time ${result.wallMs} ms > ${HA_CHECK_GOAL_MS} ms${busy ? ' (CPU time within the goal: the machine is busy, measure again when it is idle)' : ''}` };
  }
  return { cpuGoalMet, wallGoalMet, line: `${numbers}: goal met` };
}
