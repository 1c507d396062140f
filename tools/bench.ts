/**
 * `nx run tools:bench` (part of `npm run bench`): cold synth cost of the shipped clusters and
 * of 1, 10 and 50 generated clusters, one fresh process per measurement (wall time includes
 * Node + tsx start-up, as a developer or CI sees it). The table goes to stdout and to the
 * file named by the first argument, the target's cached output.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const root = join(__dirname, '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');

interface Measurement {
  readonly wallMs: number;
  readonly inProcessMs: number;
  readonly maxRssMiB: number;
}

function measure(app: 'infra' | 'gitops', size: string): Measurement {
  const outdir = mkdtempSync(join(tmpdir(), `bench-${app}-`));
  try {
    const started = performance.now();
    const run = spawnSync(tsx, [join(root, 'tools', 'bench-worker.ts'), app, size, join(outdir, 'out')], { encoding: 'utf8', cwd: root });
    const wallMs = performance.now() - started;
    if (run.status !== 0) throw new Error(`${app} synth (${size}) failed:\n${run.stderr}`);
    const report = JSON.parse(run.stdout.trim().split('\n').pop() as string) as Omit<Measurement, 'wallMs'>;
    return { wallMs, ...report };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function row(label: string, infra: Measurement, gitops: Measurement): string {
  const wall = infra.wallMs + gitops.wallMs;
  const rss = Math.max(infra.maxRssMiB, gitops.maxRssMiB);
  return `| ${label} | ${fmt(wall)} | ${rss.toFixed(0)} MiB | ${fmt(infra.wallMs)} (${fmt(infra.inProcessMs)} in process, ${infra.maxRssMiB.toFixed(0)} MiB) | ${fmt(gitops.wallMs)} (${fmt(gitops.inProcessMs)} in process, ${gitops.maxRssMiB.toFixed(0)} MiB) |`;
}

function main(): void {
  const lines = ['| workload | wall (both apps) | peak RSS | infra | gitops |', '| --- | --- | --- | --- | --- |'];
  lines.forEach((line) => console.log(line));
  const sizes: [string, string][] = [['shipped (3 clusters)', 'shipped'], ['1 generated cluster', '1'], ['10 generated clusters', '10'], ['50 generated clusters', '50']];
  for (const [label, size] of sizes) {
    lines.push(row(label, measure('infra', size), measure('gitops', size)));
    console.log(lines.at(-1));
  }
  const out = process.argv[2];
  if (out) {
    mkdirSync(dirname(resolve(out)), { recursive: true });
    writeFileSync(resolve(out), `${lines.join('\n')}\n`);
  }
}

main();
