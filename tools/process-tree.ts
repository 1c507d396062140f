import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export interface TreeRun {
  readonly status: number | null;
  readonly wallMs: number;
  /** Largest sum of the resident set of the command and all its descendants seen at once; undefined off Linux. */
  readonly peakTreeRssMiB?: number;
  readonly output: string;
}

/** The resident memory of `pid` and its descendants, from /proc (Linux). */
export function treeRssKiB(pid: number): number | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return undefined;
  }
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const entry of entries) {
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
      const kib = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
      rss.set(Number(entry), kib);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process ended while we looked.
    }
  }
  let total = 0;
  const pending = [pid];
  while (pending.length > 0) {
    const next = pending.pop() as number;
    total += rss.get(next) ?? 0;
    pending.push(...(children.get(next) ?? []));
  }
  return total;
}

/** Runs a command, sampling the memory of its whole process tree every `sampleMs`. */
export function runSampled(command: string, args: readonly string[], cwd: string, sampleMs = 20): Promise<TreeRun> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let peak: number | undefined;
    const timer = setInterval(() => {
      const kib = child.pid === undefined ? undefined : treeRssKiB(child.pid);
      if (kib !== undefined) peak = Math.max(peak ?? 0, kib);
    }, sampleMs);
    child.on('error', (error) => {
      clearInterval(timer);
      reject(error);
    });
    child.on('close', (status) => {
      clearInterval(timer);
      resolvePromise({ status, wallMs: performance.now() - started, peakTreeRssMiB: peak === undefined ? undefined : peak / 1024, output });
    });
  });
}
