import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPlatform } from '@platform/platform-config';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main';
import { pipelinePaths } from '../src/io/paths';
import { startFakeGitHub, type FakeGitHub } from './support/fake-github';
import { fakeTerraform, type FakeTerraform } from './support/fake-terraform';
import { change } from './support/plans';
import { envOverride } from './support/env';

/** pipeline:drift as drift.yml runs it for one stack: a read-only plan, then one issue per stack. */

const platform = defaultPlatform();
const stack = platform.namesOf('dr').stack;

describe('pipeline:drift --stack (cloud mode, terraform on PATH)', () => {
  let tf: FakeTerraform;
  let gh: FakeGitHub;
  let repo: string;
  const env = envOverride();
  const setEnv = env.set;
  const plan = (changes: number) =>
    writeFileSync(join(pipelinePaths(repo).stacksDir, stack, 'fake-plan.json'), JSON.stringify({ format_version: '1.2', resource_changes: Array.from({ length: changes }, (_, i) => change('aws_autoscaling_group', `pool-${i}`, ['update'])) }));

  beforeAll(async () => {
    tf = fakeTerraform();
    const repository = `${platform.settings.github.owner}/${platform.settings.github.repository}`;
    gh = await startFakeGitHub(repository);
    repo = mkdtempSync(join(tmpdir(), 'pipeline-drift-'));
    execFileSync('git', ['init', '-q', repo]);
    execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '--allow-empty', '-m', 'main']);
    mkdirSync(join(pipelinePaths(repo).stacksDir, stack), { recursive: true });
    setEnv({ ...tf.env(), GITHUB_TOKEN: 't0ken', GITHUB_REPOSITORY: repository, GITHUB_API_URL: gh.url, GITHUB_STEP_SUMMARY: join(repo, 'summary.md') });
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    env.restore();
    await gh?.close();
  });

  it('plans without the state lock (the drift role cannot write it), opens one issue on drift and closes it when clean', async () => {
    plan(2);
    expect(await main(['drift', '--stack', stack], repo)).toBe(1);
    const planCall = tf.calls().find((c) => c.args[0] === 'plan');
    expect(planCall?.args).toEqual(['plan', '-input=false', '-no-color', '-detailed-exitcode', '-out=tfplan', '-lock=false']);
    expect(gh.issues.map((i) => [i.title, i.state, i.labels.map((l) => l.name)])).toEqual([[`Drift detected in ${stack}`, 'open', ['drift']]]);
    expect(gh.issues[0]!.body).toContain('0 to add, 2 to change, 0 to destroy');

    // The same drift the next day: the one issue stays as it is.
    expect(await main(['drift', '--stack', stack], repo)).toBe(1);
    expect(gh.issues).toHaveLength(1);

    plan(0);
    expect(await main(['drift', '--stack', stack], repo)).toBe(0);
    expect(gh.issues.map((i) => [i.state, i.state_reason])).toEqual([['closed', 'completed']]);
    expect(readFileSync(join(repo, 'summary.md'), 'utf8')).toContain('✅ no drift');
  });
});
