import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitManifests } from '../src/apply/manifest-commit';
import { git, tempRepo, writeFiles } from './support/git';

/** A bare "origin" with one commit, and a clone of it as the runner's checkout. */
function setup() {
  const seed = tempRepo({ 'clusters/production/kustomization.yaml': 'resources: []\n', 'src/app.ts': 'v1\n' }, 'pipeline-seed-');
  const origin = mkdtempSync(join(tmpdir(), 'pipeline-origin-'));
  git(origin, 'clone', '--quiet', '--bare', seed, '.');
  const clone = (name: string) => {
    const dir = mkdtempSync(join(tmpdir(), `pipeline-${name}-`));
    git(dir, 'clone', '--quiet', origin, '.');
    return dir;
  };
  return { origin, runner: clone('runner'), clone };
}

const log = (origin: string) => git(origin, 'log', '--format=%an|%s', 'main').trim().split('\n');

describe('commitManifests', () => {
  it('does nothing when the synth leaves clusters/ unchanged', async () => {
    const { origin, runner } = setup();
    const result = await commitManifests({ repo: runner, paths: ['clusters'], synth: () => writeFiles(runner, { 'clusters/production/kustomization.yaml': 'resources: []\n' }), message: 'chore: manifests' });
    expect(result).toEqual({ outcome: 'unchanged', attempts: 0, commit: undefined });
    expect(log(origin)).toEqual(['test|base']);
  });

  it('commits only clusters/ as the bot with [skip ci] and pushes', async () => {
    const { origin, runner } = setup();
    const result = await commitManifests({
      repo: runner,
      paths: ['clusters'],
      synth: () => writeFiles(runner, { 'clusters/production/apps/web.yaml': 'kind: Deployment\n', 'src/unrelated.ts': 'not committed\n' }),
      message: 'chore(clusters): synthesize manifests',
    });
    expect(result.outcome).toBe('pushed');
    expect(result.attempts).toBe(1);
    expect(log(origin)).toEqual(['github-actions[bot]|chore(clusters): synthesize manifests', 'test|base']);
    expect(git(origin, 'log', '-1', '--format=%B', 'main')).toContain('[skip ci]');
    expect(git(origin, 'show', '--name-only', '--format=', 'main').trim()).toBe('clusters/production/apps/web.yaml');
  });

  it('rebases and retries when main moved on before the push', async () => {
    const { origin, runner, clone } = setup();
    const other = clone('other');
    writeFiles(other, { 'src/app.ts': 'v2\n' });
    git(other, 'commit', '--quiet', '-am', 'feature merged meanwhile');
    git(other, 'push', '--quiet', 'origin', 'HEAD:main');
    const lines: string[] = [];
    const result = await commitManifests({ repo: runner, paths: ['clusters'], synth: () => writeFiles(runner, { 'clusters/production/apps/web.yaml': 'kind: Deployment\n' }), message: 'bot', log: (l) => lines.push(l) });
    expect(result).toMatchObject({ outcome: 'pushed', attempts: 2 });
    expect(log(origin)).toEqual(['github-actions[bot]|bot', 'test|feature merged meanwhile', 'test|base']);
    expect(lines.some((l) => l.startsWith('push rejected (attempt 1)'))).toBe(true);
  });

  it('rebuilds the commit from a fresh synth when the rebase conflicts on generated files', async () => {
    const { origin, runner, clone } = setup();
    const other = clone('other');
    writeFiles(other, { 'clusters/production/kustomization.yaml': 'resources: [other.yaml]\n' });
    git(other, 'commit', '--quiet', '-am', 'other bot run');
    git(other, 'push', '--quiet', 'origin', 'HEAD:main');
    let synths = 0;
    const result = await commitManifests({
      repo: runner,
      paths: ['clusters'],
      synth: () => {
        synths++;
        writeFiles(runner, { 'clusters/production/kustomization.yaml': 'resources: [web.yaml]\n' });
      },
      message: 'bot',
    });
    expect(result).toMatchObject({ outcome: 'pushed', attempts: 2 });
    expect(synths).toBe(2);
    expect(git(origin, 'show', 'main:clusters/production/kustomization.yaml')).toBe('resources: [web.yaml]\n');
    expect(log(origin)).toEqual(['github-actions[bot]|bot', 'test|other bot run', 'test|base']);
  });

  it('gives up after maxAttempts with a clear error', async () => {
    const { runner } = setup();
    await expect(
      commitManifests({ repo: runner, paths: ['clusters'], remote: 'nowhere', synth: () => writeFiles(runner, { 'clusters/x.yaml': 'a: 1\n' }), message: 'bot', maxAttempts: 1 }),
    ).rejects.toThrow('could not push the manifest commit to nowhere/main after 1 attempts');
  });
});
