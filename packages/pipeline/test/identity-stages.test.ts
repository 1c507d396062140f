import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPlatform, platformInput, ServiceAccountIdentity } from '@platform/platform-config';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main';
import { identityAtCommit, identityStagesAtCommit } from '../src/io/base-identity-stages';
import { judgeIdentityStages } from '../src/pull-request/identity-stages';
import { identityStagesFileText, IDENTITY_STAGES_FILE } from '../src/io/committed-identity-stages';
import { git as gitIn, tempRepo, writeFiles } from './support/git';
import { ROOT } from './support/infra-synth';

const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();

describe('judgeIdentityStages: one IRSA migration stage per pull request', () => {
  const base = { staging: 'accept-issuer', production: 'sign-with-issuer', dr: 'complete' } as const;

  it('lets each cluster move one stage, or stay', () => {
    expect(judgeIdentityStages(base, [{ name: 'staging', stage: 'sign-with-issuer' }, { name: 'production', stage: 'sign-with-issuer' }, { name: 'dr', stage: 'complete' }])).toEqual({
      problems: [],
      notes: [
        "cluster staging: serviceAccountIdentity moves from accept-issuer to sign-with-issuer. The apply of this step waits until every running control-plane node of staging records accept-issuer (the previous roll finished), then rolls the control plane onto sign-with-issuer; open the next step's pull request only once that roll has finished",
      ],
    });
  });

  it('refuses two stages at once, naming the cluster, both stages and the next one', () => {
    expect(judgeIdentityStages(base, [{ name: 'staging', stage: 'web-identity' }, { name: 'production', stage: 'complete' }]).problems).toEqual([
      'cluster staging: serviceAccountIdentity moves from accept-issuer to web-identity (2 stages) in one pull request; expected one stage at a time (accept-issuer → sign-with-issuer → web-identity → complete), next: sign-with-issuer',
      'cluster production: serviceAccountIdentity moves from sign-with-issuer to complete (2 stages) in one pull request; expected one stage at a time (accept-issuer → sign-with-issuer → web-identity → complete), next: web-identity',
    ]);
  });

  it('refuses leaving complete and a new cluster that is not complete', () => {
    expect(judgeIdentityStages(base, [{ name: 'dr', stage: 'web-identity' }, { name: 'qa', stage: 'accept-issuer' }]).problems).toEqual([
      "cluster dr: serviceAccountIdentity moves from complete to web-identity; a complete cluster stays complete (its backup user and the node roles' add-on rights are gone)",
      'cluster qa: serviceAccountIdentity is accept-issuer, but the base branch has no cluster qa; expected complete (a new cluster has nothing to migrate)',
    ]);
  });

  it('accepts only accept-issuer as the first declaration when the base branch predates the field (that cluster runs without IRSA)', () => {
    expect(judgeIdentityStages({ production: null }, [{ name: 'production', stage: 'accept-issuer' }])).toEqual({
      problems: [],
      notes: ['cluster production: the base branch declares no serviceAccountIdentity; accept-issuer accepted as the first declaration'],
    });
    // Declared complete at once, the identity-roll gate would refuse null → complete and no step back from complete exists.
    expect(judgeIdentityStages({ production: null }, [{ name: 'production', stage: 'complete' }]).problems).toEqual([
      'cluster production: serviceAccountIdentity is complete, but the base branch declares none (the cluster runs without IRSA); expected acceptIssuer() as the first declaration (docs/runbooks/service-account-issuer.md)',
    ]);
  });
});

describe('the base branch’s stages, read with that commit’s own platform-config', () => {
  const introduced = git('log', '--diff-filter=A', '--format=%H', '--', 'packages/platform-config/src/service-account-identity.ts').split('\n').at(-1) as string;

  it('reads HEAD’s declarations, and none from before the field existed', async () => {
    expect(await identityStagesAtCommit(ROOT, 'HEAD')).toEqual({ staging: 'complete', production: 'complete', dr: 'complete' });
    expect(await identityStagesAtCommit(ROOT, `${introduced}^`)).toEqual({ staging: null, production: null, dr: null });
  }, 60_000);

  it('tells whether the commit’s control-plane nodes record their stage: not before platform-config derived identityStageRecords, yes at HEAD', async () => {
    const delivered = git('log', '-S', 'identityStageRecords', '--format=%H', '--reverse', '--', 'packages/platform-config/src/bootstrap.ts').split('\n')[0] as string;
    expect((await identityAtCommit(ROOT, 'HEAD')).stageRecords).toBe(true);
    expect((await identityAtCommit(ROOT, delivered)).stageRecords).toBe(true);
    expect(await identityAtCommit(ROOT, `${delivered}^`)).toEqual({ stages: { staging: 'complete', production: 'complete', dr: 'complete' }, stageRecords: false });
  }, 120_000);

  it('pipeline identity-stages exits 1 naming the cluster when a pull request moves it back from the base’s stage, 0 when nothing moves', async () => {
    const input = { ...structuredClone(platformInput), clusters: platformInput.clusters.map((c) => (c.name === 'production' ? { ...c, serviceAccountIdentity: ServiceAccountIdentity.acceptIssuer() } : c)) };
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    try {
      expect(await main(['identity-stages', '--base', 'HEAD'], ROOT, loadPlatform(input))).toBe(1);
      expect(lines.filter((l) => l.startsWith('::error::'))).toEqual([
        '::error::identity-stages: packages/pipeline/identity-stages.json is not what platform-config generates (a stage or a cluster changed without it): run `npm run pipeline:identity-stages -- --write` and commit the file',
        "::error::identity-stages: cluster production: serviceAccountIdentity moves from complete to accept-issuer; a complete cluster stays complete (its backup user and the node roles' add-on rights are gone)",
      ]);
      expect(await main(['identity-stages', '--base', 'HEAD'], ROOT, loadPlatform(structuredClone(platformInput)))).toBe(0);
    } finally {
      spy.mockRestore();
    }
  }, 60_000);
});

describe('the base branch’s stages, read as data from its committed identity-stages.json', () => {
  const withProduction = (stage: 'accept-issuer' | 'sign-with-issuer' | 'web-identity') =>
    loadPlatform({ ...structuredClone(platformInput), clusters: platformInput.clusters.map((c) => (c.name === 'production' ? { ...c, serviceAccountIdentity: ServiceAccountIdentity.of(stage) } : c)) });

  /** `pipeline identity-stages --base main` in a pull request branch of `repo` whose platform-config is `head`: exit code, ::error:: lines, log. */
  async function check(repo: string, head: ReturnType<typeof withProduction>): Promise<{ code: number; errors: string[]; log: string[] }> {
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    try {
      const code = await main(['identity-stages', '--base', 'main'], repo, head);
      return { code, errors: lines.filter((l) => l.startsWith('::error::')), log: lines };
    } finally {
      spy.mockRestore();
    }
  }

  /** A repository whose main has only the generated file (no platform-config: importing the base's code fails), and a pull request branch carrying `head`'s file. */
  function repoWith(base: ReturnType<typeof withProduction>, head: ReturnType<typeof withProduction>): string {
    const repo = tempRepo({ [IDENTITY_STAGES_FILE]: identityStagesFileText(base) }, 'pipeline-identity-stages-');
    gitIn(repo, 'checkout', '--quiet', '-b', 'pull');
    writeFiles(repo, { [IDENTITY_STAGES_FILE]: identityStagesFileText(head) });
    gitIn(repo, 'commit', '--quiet', '--allow-empty', '-am', 'next stage');
    return repo;
  }

  it('judges against the base’s file, never importing the base’s platform-config (a dependency bump cannot break it)', async () => {
    const next = await check(repoWith(withProduction('accept-issuer'), withProduction('sign-with-issuer')), withProduction('sign-with-issuer'));
    expect(next.errors).toEqual([]);
    expect(next.code).toBe(0);
    expect(next.log.join('\n')).toMatch(/identity-stages: the base's stages as its packages\/pipeline\/identity-stages\.json \([0-9a-f]{12}\) records them/);
    const skip = await check(repoWith(withProduction('accept-issuer'), withProduction('web-identity')), withProduction('web-identity'));
    expect(skip.code).toBe(1);
    expect(skip.errors).toEqual([expect.stringContaining('::error::identity-stages: cluster production: serviceAccountIdentity moves from accept-issuer to web-identity')]);
  });

  it('refuses a pull request whose file is not what its platform-config generates (the next pull request reads it as its base)', async () => {
    const repo = repoWith(withProduction('accept-issuer'), withProduction('accept-issuer'));
    const stale = await check(repo, withProduction('sign-with-issuer'));
    expect(stale.code).toBe(1);
    expect(stale.errors).toEqual([
      '::error::identity-stages: packages/pipeline/identity-stages.json is not what platform-config generates (a stage or a cluster changed without it): run `npm run pipeline:identity-stages -- --write` and commit the file',
    ]);
    expect(await main(['identity-stages', '--write'], repo, withProduction('sign-with-issuer'))).toBe(0);
    expect((await check(repo, withProduction('sign-with-issuer'))).code).toBe(0);
  });

  it('the committed file is what the default platform generates', () => {
    expect(readFileSync(join(ROOT, IDENTITY_STAGES_FILE), 'utf8')).toBe(identityStagesFileText(loadPlatform(structuredClone(platformInput))));
  });
});
