import { mkdtempSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { hashTree } from './tree';

// Fails the rename that moves the staging folder into place, once, to reach the restore path.
const failing = vi.hoisted(() => ({ stagingRename: false }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    renameSync: (from: string, to: string) => {
      if (failing.stagingRename && from.includes('.staging-')) {
        failing.stagingRename = false;
        throw Object.assign(new Error(`EXDEV: cross-device link not permitted, rename '${from}' -> '${to}'`), { code: 'EXDEV' });
      }
      return fs.renameSync(from, to);
    },
  };
});

const { replaceDirectoryAtomically } = await import('./atomic-directory');

describe('replaceDirectoryAtomically when the swap itself fails', () => {
  it('puts the previous output back in place and leaves no hidden folders', async () => {
    const root = mkdtempSync(join(tmpdir(), 'synth-kit-swap-'));
    const target = join(root, 'out');
    mkdirSync(target);
    writeFileSync(join(target, 'keep.yaml'), 'v1');
    const before = hashTree(target);
    failing.stagingRename = true;
    await expect(replaceDirectoryAtomically(target, (dir) => writeFileSync(join(dir, 'keep.yaml'), 'v2'))).rejects.toThrow('EXDEV');
    expect(hashTree(target)).toEqual(before);
    expect(readdirSync(root)).toEqual(['out']);
  });
});
