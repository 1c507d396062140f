import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { main } from '../src/cli';
import { syntheticCluster, writeSyntheticCluster, type SyntheticClusterOptions } from '../bench/synthetic-cluster';

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ha-check-test-'));
  roots.push(dir);
  return dir;
}

/** Writes a synthetic cluster to a temp folder and returns its paths. */
export function writeFixture(options: SyntheticClusterOptions = {}): { root: string; terraform: string; manifests: string } {
  const root = tempDir();
  return { root, ...writeSyntheticCluster(root, syntheticCluster(options)) };
}

/** Runs the CLI in-process, capturing output and the exit code. */
export async function runCli(args: readonly string[], cwd = process.cwd()): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd });
  return { code, stdout, stderr };
}
