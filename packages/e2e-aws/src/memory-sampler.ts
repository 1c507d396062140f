import { readdirSync, readFileSync } from 'node:fs';

/** One process as /proc shows it. */
export interface ProcEntry {
  readonly pid: number;
  readonly ppid: number;
  /** `comm` (the executable's name, at most 15 characters). */
  readonly name: string;
  readonly rssKiB: number;
}

/** Every process under /proc now (pid, parent, name, resident set); ones that exit while read are left out. */
export function readProcs(proc = '/proc'): ProcEntry[] {
  const out: ProcEntry[] = [];
  for (const dir of readdirSync(proc)) {
    if (!/^\d+$/.test(dir)) continue;
    try {
      const stat = readFileSync(`${proc}/${dir}/stat`, 'utf8');
      // comm is in parentheses and may hold spaces or ')': the fields after the last ')' are fixed.
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`${proc}/${dir}/status`, 'utf8'))?.[1];
      out.push({ pid: Number(dir), ppid, name, rssKiB: rss ? Number(rss) : 0 });
    } catch {
      // exited between the listing and the read
    }
  }
  return out;
}

/** `root` and all its descendants. */
export function processTree(procs: readonly ProcEntry[], root: number): ProcEntry[] {
  const children = new Map<number, ProcEntry[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const tree: ProcEntry[] = [];
  const stack = procs.filter((p) => p.pid === root);
  while (stack.length > 0) {
    const p = stack.pop()!;
    tree.push(p);
    stack.push(...(children.get(p.pid) ?? []));
  }
  return tree;
}

/** Which part of the run a process belongs to, for the breakdown. */
export function groupOf(name: string): string {
  if (name.startsWith('terraform-provi')) return 'terraform provider';
  if (name === 'terraform') return 'terraform';
  if (name.startsWith('moto')) return 'moto';
  if (name === 'node' || name === 'MainThread') return 'node (runner, tsx, pipeline CLI)';
  if (name === 'kubectl' || name === 'aws') return name;
  return /^python/.test(name) || name === 'checkov' ? 'python (moto, checkov, aws)' : 'other';
}

export interface MemoryPeak {
  /** The largest sum of resident memory over the whole process tree in one sample, MiB. */
  readonly totalMiB: number;
  /** At that sample, per group, MiB. */
  readonly atPeak: Readonly<Record<string, number>>;
  /** Each group's own largest sample (not simultaneous), MiB. */
  readonly perGroup: Readonly<Record<string, number>>;
  readonly samples: number;
  readonly intervalMs: number;
}

const mib = (kib: number) => Math.round(kib / 1024);

/**
 * Samples the resident memory (VmRSS) of this process and every descendant (terraform and its
 * provider plugins, moto, checkov, the AWS CLI, kubectl, the pipeline CLI) every `intervalMs`,
 * summing the tree: the machine's memory the run held at once. A spike shorter than the interval
 * can be missed; shared pages count once per process (RSS, not PSS), so the sum is an upper bound.
 */
export class MemorySampler {
  private timer: NodeJS.Timeout | undefined;
  private peakKiB = 0;
  private atPeakKiB: Record<string, number> = {};
  private readonly perGroupKiB: Record<string, number> = {};
  private samples = 0;

  constructor(
    private readonly root = process.pid,
    readonly intervalMs = 1000,
    private readonly read: () => ProcEntry[] = readProcs,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  sample(): void {
    const tree = processTree(this.read(), this.root);
    const byGroup: Record<string, number> = {};
    for (const p of tree) byGroup[groupOf(p.name)] = (byGroup[groupOf(p.name)] ?? 0) + p.rssKiB;
    const total = tree.reduce((a, p) => a + p.rssKiB, 0);
    this.samples += 1;
    if (total > this.peakKiB) {
      this.peakKiB = total;
      this.atPeakKiB = byGroup;
    }
    for (const [g, kib] of Object.entries(byGroup)) this.perGroupKiB[g] = Math.max(this.perGroupKiB[g] ?? 0, kib);
  }

  stop(): MemoryPeak {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const toMiB = (r: Record<string, number>) => Object.fromEntries(Object.entries(r).sort((a, b) => b[1] - a[1]).map(([g, k]) => [g, mib(k)]));
    return { totalMiB: mib(this.peakKiB), atPeak: toMiB(this.atPeakKiB), perGroup: toMiB(this.perGroupKiB), samples: this.samples, intervalMs: this.intervalMs };
  }
}

/** One line for the summary: what was measured and how. */
export function describePeak(peak: MemoryPeak): string {
  const parts = (r: Readonly<Record<string, number>>) => Object.entries(r).map(([g, m]) => `${g} ${m}`).join(', ');
  return `peak memory of the whole process tree (sum of VmRSS of this runner and every child: terraform and its provider plugins, moto, checkov, aws, kubectl; sampled every ${peak.intervalMs / 1000} s, ${peak.samples} samples) ${peak.totalMiB} MiB (at that sample, MiB: ${parts(peak.atPeak)}); each group's own peak, MiB: ${parts(peak.perGroup)}`;
}
