import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gitTokenEnvironment } from '../src/private/git-token';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempRepo = () => {
  const dir = mkdtempSync(join(tmpdir(), 'git-token-'));
  dirs.push(dir);
  execFileSync('git', ['init', '--quiet', dir]);
  return dir;
};
// What real git reads for the key, with nothing from the machine's own config files.
const gitConfig = (cwd: string, env: NodeJS.ProcessEnv, key: string) =>
  execFileSync('git', ['config', '--get-all', key], { cwd, env: { ...env, GIT_CONFIG_NOSYSTEM: '1', HOME: cwd }, encoding: 'utf8' }).trim();

describe('gitTokenEnvironment', () => {
  const base = { PATH: process.env.PATH };

  it('gives git the extraheader actions/checkout would write, read by real git from the environment only', () => {
    const repo = tempRepo();
    const env = gitTokenEnvironment({ ...base, GITHUB_TOKEN: 'ghs_example' });
    expect(gitConfig(repo, env, 'http.https://github.com/.extraheader')).toBe(`AUTHORIZATION: basic ${Buffer.from('x-access-token:ghs_example').toString('base64')}`);
    // Nothing was written where a later step or an uploaded workspace would find it.
    expect(readFileSync(join(repo, '.git/config'), 'utf8')).not.toContain('extraheader');
  });

  it('follows GITHUB_SERVER_URL (GitHub Enterprise) and keeps config entries passed the same way before it', () => {
    const repo = tempRepo();
    const env = gitTokenEnvironment({ ...base, GITHUB_TOKEN: 't', GITHUB_SERVER_URL: 'https://git.example.com/', GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'user.name', GIT_CONFIG_VALUE_0: 'bot' });
    expect(gitConfig(repo, env, 'user.name')).toBe('bot');
    expect(gitConfig(repo, env, 'http.https://git.example.com/.extraheader')).toMatch(/^AUTHORIZATION: basic /);
  });

  it('changes nothing without a token (a local remote in tests)', () => {
    const env = { ...base, GIT_CONFIG_COUNT: '0' };
    expect(gitTokenEnvironment(env)).toBe(env);
  });
});
