import { describe, expect, it } from 'vitest';
import { runSampled, treeRssKiB } from './process-tree';

describe('runSampled', () => {
  it('counts the memory of child processes, not only the command itself', async () => {
    // The shell holds ≈ 4 MiB; the Node child it starts allocates ≈ 200 MiB and keeps it a moment.
    const script = "const b = Buffer.alloc(200 * 2 ** 20, 1); setTimeout(() => process.stdout.write(String(b.length)), 800);";
    const run = await runSampled('sh', ['-c', `node -e '${script}'`], process.cwd());
    expect(run.status).toBe(0);
    expect(run.output.trim()).toBe(String(200 * 2 ** 20));
    expect(run.peakTreeRssMiB).toBeGreaterThan(200);
  });

  it('reads this process tree', () => {
    expect(treeRssKiB(process.pid)).toBeGreaterThan(10 * 1024);
  });
});
