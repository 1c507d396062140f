import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/cli/main';
import { ROOT } from './support/infra-synth';

/**
 * A workflow step or a runbook that calls `npm run <script>` for a script package.json lacks
 * fails only when it runs (npm: "Missing script"), which for apply.yml's deploy job or the
 * region-failover workflow is the worst moment. These tests find every such call first.
 */

const rootScripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** Workspace (`-w <name>`) scripts, keyed by package name. */
function workspaceScripts(): Map<string, Record<string, string>> {
  const found = new Map<string, Record<string, string>>();
  for (const group of ['packages', 'apps']) {
    for (const dir of readdirSync(join(ROOT, group))) {
      const file = join(ROOT, group, dir, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name: string; scripts?: Record<string, string> };
      found.set(pkg.name, pkg.scripts ?? {});
    }
  }
  return found;
}

function filesUnder(dir: string, pattern: RegExp): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : filesUnder(path, pattern);
    return pattern.test(name) ? [path] : [];
  });
}

/** Where commands are written down to be run: workflows, composite actions, docs, READMEs. */
const sources = [
  ...filesUnder(join(ROOT, '.github'), /\.ya?ml$/),
  ...filesUnder(join(ROOT, 'docs'), /\.md$/),
  join(ROOT, 'README.md'),
  ...['packages', 'apps'].flatMap((group) => readdirSync(join(ROOT, group)).map((d) => join(ROOT, group, d, 'README.md'))),
].filter((f) => existsSync(f));

interface Call {
  readonly file: string;
  readonly script: string;
  readonly workspace?: string;
}

/** `npm run [--silent] <script> [... -w <workspace>]`, one per line (`pipeline:<command>`, a placeholder, is no call). */
export function npmRunCalls(file: string, text: string): Call[] {
  const calls: Call[] = [];
  for (const line of text.split('\n')) {
    for (const m of line.matchAll(/\bnpm run (?:(?:--silent|-s)\s+)?([A-Za-z0-9:_-]*[A-Za-z0-9_-])(?![<A-Za-z0-9:_-])([^;&|`]*)/g)) {
      const workspace = /(?:-w|--workspace)[ =](\S+)/.exec(m[2] ?? '')?.[1];
      calls.push({ file: relative(ROOT, file), script: m[1]!, workspace });
    }
  }
  return calls;
}

const missing = (calls: readonly Call[], scripts: Record<string, string>, workspaces: Map<string, Record<string, string>>) =>
  calls.filter((c) => !(c.workspace ? (workspaces.get(c.workspace) ?? {}) : scripts)[c.script]).map((c) => `${c.file}: npm run ${c.script}${c.workspace ? ` -w ${c.workspace}` : ''}`);

describe('npm scripts the workflows and docs call', () => {
  const calls = sources.flatMap((f) => npmRunCalls(f, readFileSync(f, 'utf8')));

  it('finds the calls (the workflows run the pipeline through npm scripts)', () => {
    expect(sources.some((f) => f.endsWith('apply.yml'))).toBe(true);
    expect(calls.filter((c) => c.file.startsWith('.github/')).map((c) => c.script)).toEqual(expect.arrayContaining(['pipeline:deploy-refs', 'pipeline:plan-approved', 'failover']));
  });

  it('every called script exists in the package.json it runs from', () => {
    expect(missing(calls, rootScripts, workspaceScripts())).toEqual([]);
  });

  it('a call of a missing script is reported (as apply.yml calling pipeline:deploy-refs was before it was added)', () => {
    const workflow = 'jobs:\n  deploy:\n    steps:\n      - run: npm run --silent pipeline:deploy-refs -- --sha "${GITHUB_SHA}"\n';
    const { 'pipeline:deploy-refs': _, ...without } = rootScripts;
    expect(missing(npmRunCalls(join(ROOT, '.github/workflows/x.yml'), workflow), without, workspaceScripts())).toEqual(['.github/workflows/x.yml: npm run pipeline:deploy-refs']);
  });

  it('every pipeline:<command> script runs a command the pipeline CLI has, under the same name', () => {
    const pipeline = Object.entries(rootScripts).filter(([name]) => name.startsWith('pipeline:'));
    for (const [name, script] of pipeline) expect(script, name).toBe(`tsx packages/pipeline/src/cli/main.ts ${name.slice('pipeline:'.length)}`);
    for (const [name] of pipeline) expect(Object.keys(COMMANDS), name).toContain(name.slice('pipeline:'.length));
  });
});
