import { mkdtempSync, readFileSync, writeFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replaceDirectoryAtomically } from './atomic-directory';
import { hashTree } from './tree';
import { stableJson } from './stable-json';

function fixture() {
  const root = mkdtempSync(join(tmpdir(), 'synth-kit-'));
  const target = join(root, 'out');
  mkdirSync(join(target, 'old'), { recursive: true });
  writeFileSync(join(target, 'old', 'stale.yaml'), 'stale');
  writeFileSync(join(target, 'keep.yaml'), 'v1');
  return { root, target };
}

describe('replaceDirectoryAtomically', () => {
  it('swaps in the new tree and drops files of removed resources', async () => {
    const { target } = fixture();
    await replaceDirectoryAtomically(target, (dir) => writeFileSync(join(dir, 'keep.yaml'), 'v2'));
    expect(readFileSync(join(target, 'keep.yaml'), 'utf8')).toBe('v2');
    expect(existsSync(join(target, 'old', 'stale.yaml'))).toBe(false);
  });

  it('leaves the previous output untouched and no staging folder when production fails', async () => {
    const { root, target } = fixture();
    const before = hashTree(target);
    await expect(
      replaceDirectoryAtomically(target, (dir) => {
        writeFileSync(join(dir, 'keep.yaml'), 'half-written');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(hashTree(target)).toEqual(before);
    expect(readdirSync(root)).toEqual(['out']);
  });
});

describe('stableJson', () => {
  it('sorts keys at every depth', () => {
    expect(stableJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: 3 } })).toBe(stableJson({ a: { c: 3, d: [{ y: 2, z: 1 }] }, b: 1 }));
  });
});
