import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');
const inputs = (JSON.parse(readFileSync(join(root, 'project.json'), 'utf8')) as { targets: { e2e: { inputs: (string | Record<string, string>)[] } } }).targets.e2e.inputs;
const sources = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [readFileSync(join(dir, e.name), 'utf8')] : []));

// E2E_AWS_KEEP keeps the work directory for a look; it changes nothing the run judges.
const NOT_AN_INPUT = new Set(['E2E_AWS_KEEP']);

describe('nx e2e-aws:e2e cache inputs', () => {
  it('hash every E2E_AWS_* variable the run reads, so a cached ✅ is never replayed for a filtered run', () => {
    const read = new Set(sources(join(root, 'src')).flatMap((text) => text.match(/E2E_AWS_[A-Z_]+/g) ?? []));
    const hashed = inputs.flatMap((i) => (typeof i === 'object' && i.env ? [i.env] : []));
    expect([...read].filter((v) => !NOT_AN_INPUT.has(v) && !hashed.includes(v))).toEqual([]);
    expect(hashed).toEqual(expect.arrayContaining(['E2E_AWS_ONLY', 'E2E_AWS_SKIP']));
  });

  it('hash the files outside the package the run reads: the stacks, clusters/ (Flux applies it) and the vendored CRDs (the fake API validates by them)', () => {
    expect(inputs).toEqual(expect.arrayContaining(['{workspaceRoot}/apps/infra/cdktf.out/stacks/**/*', '{workspaceRoot}/clusters/**/*', '{workspaceRoot}/packages/k8s-addons/crds/*']));
    expect(sources(join(root, 'src')).some((t) => t.includes("'packages/k8s-addons/crds'"))).toBe(true);
  });
});
