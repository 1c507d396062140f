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
import { runSampled } from './process-tree';

const root = join(__dirname, '..');

interface Measurement {
  readonly wallMs: number;
  readonly inProcessMs: number;
  readonly maxRssMiB: number;
}

function measure(app: 'infra' | 'gitops', size: string): Measurement {
  const outdir = mkdtempSync(join(tmpdir(), `bench-${app}-`));
  try {
    const started = performance.now();
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'tools', 'bench-worker.ts'), app, size, join(outdir, 'out')], { encoding: 'utf8', cwd: root });
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

/**
 * The command developers and CI really run: Nx starts both apps at once (`parallel: 2`), so
 * this is the wall time and the memory of the whole process tree (Nx, npm, both apps). It
 * rewrites the repository's own synth output, byte for byte the same (synth is deterministic).
 */
async function endToEnd(): Promise<string> {
  const nx = join(root, 'node_modules', '.bin', 'nx');
  const run = await runSampled(nx, ['run-many', '-t', 'synth', '--skip-nx-cache', '--outputStyle=static'], root);
  if (run.status !== 0) throw new Error(`npm run synth failed:\n${run.output}`);
  const rss = run.peakTreeRssMiB === undefined ? 'n/a' : `${run.peakTreeRssMiB.toFixed(0)} MiB`;
  return `| \`npm run synth\` end to end (Nx, both apps in parallel) | ${fmt(run.wallMs)} | ${rss} (whole process tree) | — | — |`;
}

async function main(): Promise<void> {
  const lines = ['| workload | wall (both apps) | peak RSS | infra | gitops |', '| --- | --- | --- | --- | --- |'];
  lines.forEach((line) => console.log(line));
  const sizes: [string, string][] = [['shipped (3 clusters)', 'shipped'], ['1 generated cluster', '1'], ['10 generated clusters', '10'], ['50 generated clusters', '50']];
  for (const [label, size] of sizes) {
    lines.push(row(label, measure('infra', size), measure('gitops', size)));
    console.log(lines.at(-1));
  }
  lines.push(await endToEnd());
  console.log(lines.at(-1));
  const out = process.argv[2];
  if (out) {
    mkdirSync(dirname(resolve(out)), { recursive: true });
    writeFileSync(resolve(out), `${lines.join('\n')}\n`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
