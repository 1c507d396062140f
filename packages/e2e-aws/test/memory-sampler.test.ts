import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { MemorySampler, processTree, type ProcEntry } from '../src/memory-sampler';

describe('processTree', () => {
  it('takes the root and every descendant, nothing else', () => {
    const procs: ProcEntry[] = [
      { pid: 1, ppid: 0, name: 'init', rssKiB: 1 },
      { pid: 10, ppid: 1, name: 'node', rssKiB: 100 },
      { pid: 11, ppid: 10, name: 'terraform', rssKiB: 200 },
      { pid: 12, ppid: 11, name: 'terraform-provi', rssKiB: 300 },
      { pid: 20, ppid: 1, name: 'other', rssKiB: 999 },
    ];
    expect(processTree(procs, 10).map((p) => p.pid).sort()).toEqual([10, 11, 12]);
  });
});

describe('MemorySampler', () => {
  it("counts a child's (and grandchild's) resident memory, not only this process's", async () => {
    // A grandchild (sh → python3) holding ~300 MiB resident, as a terraform provider plugin would under terraform.
    const child = spawn('sh', ['-c', 'python3 -c "import time; b = bytearray(300 * 1024 * 1024); time.sleep(3)"; true'], { stdio: 'ignore' });
    const sampler = new MemorySampler(process.pid, 200).start();
    await new Promise((r) => child.on('exit', r));
    const peak = sampler.stop();
    expect(peak.perGroup['python (moto, checkov, aws)']).toBeGreaterThanOrEqual(290);
    expect(peak.totalMiB).toBeGreaterThan(peak.perGroup['python (moto, checkov, aws)']!);
    expect(peak.samples).toBeGreaterThan(3);
  });
});
