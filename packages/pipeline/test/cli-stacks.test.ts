import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { defaultPlatform } from '@platform/platform-config';
import { main } from '../src/cli/main';
import { buildPullRequestRepo, type PullRequestRepo } from './support/pr-repo';

/** `pipeline:stacks`, the matrix source of the plan, apply and drift jobs, on a real git history. */

const platform = defaultPlatform();
const stack = platform.namesOf('production').stack;
let pr: PullRequestRepo;
let outputFile: string;
const saved = process.env.GITHUB_OUTPUT;

beforeAll(() => {
  pr = buildPullRequestRepo(platform, 'production', 'staging');
  outputFile = join(mkdtempSync(join(tmpdir(), 'pipeline-output-')), 'output');
  process.env.GITHUB_OUTPUT = outputFile;
});
afterAll(() => {
  if (saved === undefined) delete process.env.GITHUB_OUTPUT;
  else process.env.GITHUB_OUTPUT = saved;
  rmSync(pr.repo, { recursive: true, force: true });
});
afterEach(() => vi.restoreAllMocks());

async function stacks(...args: string[]): Promise<{ code: number; output: string; stderr: string[] }> {
  writeFileSync(outputFile, '');
  const stderr: string[] = [];
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  vi.spyOn(console, 'error').mockImplementation((line: string) => stderr.push(line));
  const code = await main(['stacks', ...args], pr.repo);
  return { code, output: readFileSync(outputFile, 'utf8'), stderr };
}

describe('pipeline stacks', () => {
  it('lists the stacks the changes since the base select', async () => {
    // staging's manifest changed with no stack of it; dr pairs with production but has no stack in this repository.
    expect(await stacks('--base', 'main')).toEqual({
      code: 0,
      output: `stacks=["${stack}"]\nany=true\nclusters=["staging","dr"]\nany_clusters=true\n`,
      stderr: ['pipeline: manifest-only clusters: staging, dr'],
    });
  });

  it('lists none, and says so, when nothing changed', async () => {
    expect(await stacks('--base', 'HEAD')).toEqual({ code: 0, output: 'stacks=[]\nany=false\nclusters=[]\nany_clusters=false\n', stderr: [] });
  });

  it('lists every stack in apply order for --all', async () => {
    expect((await stacks('--all')).output).toBe(`stacks=["${platform.names.ciIdentityStack}","${stack}"]\nany=true\nclusters=[]\nany_clusters=false\n`);
  });

  it('lists every stack when the base is not a commit here (first push, force push)', async () => {
    const before = '0'.repeat(40);
    expect(await stacks('--base', before)).toEqual({
      code: 0,
      output: `stacks=["${platform.names.ciIdentityStack}","${stack}"]\nany=true\nclusters=[]\nany_clusters=false\n`,
      stderr: [`pipeline: base ${before} is not a commit in this clone; selecting every stack`],
    });
  });
});
