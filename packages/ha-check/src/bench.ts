import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runHaCheck } from './ha-check';
import { DEFAULT_OBJECTIVES } from './objectives';
import { formatMarkdown } from './report/markdown';
import { syntheticCluster, writeSyntheticCluster } from './synthetic-cluster';

export interface HaCheckBenchResult {
  readonly objects: number;
  readonly terraformResources: number;
  readonly kubernetesObjects: number;
  /** Load (JSON + YAML parse), model, analysis and Markdown rendering; generation excluded. */
  readonly wallMs: number;
  /** CPU time (user + system) of the same section: wall time minus waiting on a busy machine. */
  readonly cpuMs: number;
  readonly peakRssMiB: number;
  readonly findings: number;
}

/**
 * ha-check on a generated cluster of about `objects` objects (Terraform resources plus
 * Kubernetes objects), written to a temporary folder and read back the way the CLI reads it.
 */
export function benchmarkHaCheck(objects = 10_000): HaCheckBenchResult {
  const base = syntheticCluster();
  const baseCount = Object.values(base.terraform.resource as Record<string, object>).reduce((s, byName) => s + Object.keys(byName).length, 0) + Object.values(base.manifests).reduce((s, l) => s + l.length, 0);
  // Each generated app is a Deployment, Service, PDB and HPA.
  const cluster = syntheticCluster({ generatedApps: Math.max(0, Math.ceil((objects - baseCount) / 4)), workersPerAz: { min: 20, max: 60 } });
  const root = mkdtempSync(join(tmpdir(), 'ha-check-bench-'));
  try {
    const paths = writeSyntheticCluster(root, cluster);
    const started = performance.now();
    const cpu = process.cpuUsage();
    const report = runHaCheck({ terraform: [paths.terraform], manifests: paths.manifests, objectives: DEFAULT_OBJECTIVES, builder: 'files' });
    formatMarkdown(report);
    const wallMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    return {
      objects: report.summary.terraformResources + report.summary.kubernetesObjects,
      terraformResources: report.summary.terraformResources,
      kubernetesObjects: report.summary.kubernetesObjects,
      wallMs: Math.round(wallMs),
      cpuMs: Math.round((used.user + used.system) / 1000),
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
      findings: report.findings.length,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
