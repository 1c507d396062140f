import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** A cdk.tf.json as the edits in tests see it: resource type → name → arguments. */
export type TerraformDoc = { resource: Record<string, Record<string, Record<string, unknown>>> };

/** The fixture's cdk.tf.json, changed by `edit` (the way a hand edit or a bad synth leaves it), written back. */
export function editedTerraform(edit: (doc: TerraformDoc) => void, options: SyntheticClusterOptions = {}): { root: string; terraform: string; manifests: string } {
  const f = writeFixture(options);
  const file = join(f.terraform, 'cdk.tf.json');
  const doc = JSON.parse(readFileSync(file, 'utf8')) as TerraformDoc;
  edit(doc);
  writeFileSync(file, JSON.stringify(doc));
  return f;
}
