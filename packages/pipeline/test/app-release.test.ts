import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { APP_CATALOG, APP_CATALOG_FILE, defaultPlatform, loadPlatform, platformInput } from '@platform/platform-config';
import { promoteReleaseCommand } from '../src/cli/commands/promote-release';
import { releaseCommand } from '../src/cli/commands/release';
import { main } from '../src/cli/main';
import { GitHubClient } from '../src/io/github';
import { OciRegistryClient } from '../src/io/registry';
import { recordingActions } from './support/actions';
import { startFakeGitHub, type FakeGitHub } from './support/fake-github';
import { indexManifest, manifestDigest, startFakeRegistry, type FakeRegistry } from './support/fake-registry';
import { git, tempRepo, writeFiles } from './support/git';

/**
 * The release flow end to end on a real bare origin and the fake GitHub (which answers the
 * pull request calls from that origin's branches, as GitHub does): an application repository's
 * dispatch → catalog change on a branch → pull request whose body is the digest diff; the
 * promotion from what staging runs on main; a rollback to an earlier digest.
 */

const platform = defaultPlatform();
const repository = `${platform.settings.github.owner}/${platform.settings.github.repository}`;
const REPO = 'registry.k8s.io/e2e-test-images/agnhost';
/** The digest the shipped catalog pins; the fake registry cannot hold its bytes, so the tests release their own images. */
const SHIPPED = 'sha256:99c6b4bb4a1e1df3f0b3752168c89358794d02258ebebc26bf21c29399011a85';
const NAME = 'e2e-test-images/agnhost';
const OLD = manifestDigest(indexManifest('2.53'));
const NEW = manifestDigest(indexManifest('2.54'));
const manifest = (digest: string) => `https://registry.k8s.io/v2/e2e-test-images/agnhost/manifests/${digest}`;
const link = (digest: string) => `[\`${digest.slice(0, 19)}…\`](${manifest(digest)})`;

/** Stands in for `nx run gitops:synth`: renders each cluster's images through platform-config from the catalog on disk. */
function fakeSynth(repo: string): void {
  const catalog: unknown = JSON.parse(readFileSync(join(repo, APP_CATALOG_FILE), 'utf8'));
  const p = loadPlatform({ ...platformInput, appCatalog: catalog });
  for (const c of p.clusters) {
    const lines = ['web', 'orders-api'].map((app) => `${app}: ${p.appOf(c, app)?.image ?? 'none'}`);
    writeFiles(repo, { [`clusters/${c.name}/apps/images.yaml`]: `${lines.join('\n')}\n` });
  }
}

let origin: string;
let gh: FakeGitHub;
let registry: FakeRegistry;
let seeded: string;
let errors: string[];
/** Every registry host is the fake one (registry.k8s.io's redirect is covered in registry.test.ts). */
const commands = () => {
  const deps = { synth: fakeSynth, registry: new OciRegistryClient({ endpoint: () => registry.url }) };
  return { release: releaseCommand(deps), 'promote-release': promoteReleaseCommand(deps) } as never;
};

async function setUp(change: (catalog: { apps: Record<string, Record<string, unknown> & { release: { autoMergeStaging: boolean } }> }) => void = () => undefined, allowAutoMerge = true): Promise<void> {
  registry = await startFakeRegistry();
  for (const tag of ['2.53', '2.54']) registry.push(NAME, indexManifest(tag), tag);
  const catalog = JSON.parse(JSON.stringify(APP_CATALOG).replaceAll(SHIPPED, OLD)) as Parameters<typeof change>[0];
  change(catalog);
  seeded = `${JSON.stringify(catalog, null, 2)}\n`;
  const seed = tempRepo({ [APP_CATALOG_FILE]: seeded }, 'pipeline-release-seed-');
  fakeSynth(seed);
  git(seed, 'add', '--all');
  git(seed, 'commit', '--quiet', '-m', 'manifests');
  origin = mkdtempSync(join(tmpdir(), 'pipeline-release-origin-'));
  git(origin, 'clone', '--quiet', '--bare', seed, '.');
  gh = await startFakeGitHub(repository, { git: origin, allowAutoMerge });
}

function clone(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pipeline-release-run-'));
  git(dir, 'clone', '--quiet', origin, '.');
  return dir;
}

async function run(...args: string[]) {
  const actions = recordingActions({ github: new GitHubClient({ token: 't0ken', repository, baseUrl: gh.url }) });
  const code = await main(args, clone(), platform, { actions, commands: commands() });
  return { code, actions };
}

/** A file as a branch of the origin has it. */
const onOrigin = (branch: string, file: string) => git(origin, 'show', `${branch}:${file}`);
const catalogOn = (branch: string) => JSON.parse(onOrigin(branch, APP_CATALOG_FILE)) as { apps: Record<string, { digests: Record<string, string>; history: { digest: string; tag?: string }[] }> };
/** The merge: GitHub fast-forwards main to the pull request's branch. */
const merge = (branch: string) => git(origin, 'update-ref', 'refs/heads/main', `refs/heads/${branch}`);

/** `digest` released to staging and promoted to production, both pull requests merged. */
async function releaseAndPromote(digest: string, tag: string): Promise<void> {
  expect((await run('release', '--app', 'web', '--image', `${REPO}:${tag}`, '--digest', digest)).code).toBe(0);
  merge('release/web/staging');
  expect((await run('promote-release', '--app', 'web')).code).toBe(0);
  merge('release/web/production');
}

beforeEach(() => {
  errors = [];
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
});
afterEach(async () => {
  await gh?.close();
  await registry?.close();
  vi.restoreAllMocks();
});

describe('release (dispatch → staging pull request)', () => {
  it('changes staging\'s digest in the catalog and clusters/, and opens a pull request whose body is the digest diff, linked', async () => {
    await setUp();
    const { code, actions } = await run('release', '--app', 'web', '--image', `${REPO}:2.54`, '--digest', NEW);
    expect(errors).toEqual([]);
    expect(code).toBe(0);
    const web = catalogOn('release/web/staging').apps.web!;
    expect(web.digests).toEqual({ production: OLD, staging: NEW });
    expect(web.history).toEqual([{ digest: OLD, tag: '2.53' }, { digest: NEW, tag: '2.54' }]);
    expect(onOrigin('release/web/staging', 'clusters/staging/apps/images.yaml')).toContain(`web: ${REPO}@${NEW}`);
    expect(onOrigin('release/web/staging', 'clusters/production/apps/images.yaml')).toContain(`web: ${REPO}@${OLD}`);
    expect(onOrigin('main', APP_CATALOG_FILE)).toBe(seeded);

    expect(gh.pulls).toHaveLength(1);
    const pull = gh.pulls[0]!;
    expect(pull).toMatchObject({ title: 'release web 2.54 to staging', head: { ref: 'release/web/staging' }, base: { ref: 'main' } });
    expect(pull.body.split('\n')).toEqual(expect.arrayContaining(['### Release web to staging (staging)', `| staging | web | ${link(OLD)} → ${link(NEW)} |`, `- staging/web: \`${OLD}\` → \`${NEW}\``]));
    expect(pull.body).not.toMatch(/\| (production|dr) \|/);
    expect(actions.outputs).toMatchObject({ changed: 'true', pull_request: String(pull.number) });
  });

  it('turns auto-merge on when the catalog declares it', async () => {
    await setUp();
    expect((await run('release', '--app', 'web', '--image', REPO, '--digest', NEW)).code).toBe(0);
    expect(gh.pulls[0]!.autoMerge).toEqual({ mergeMethod: 'SQUASH' });
    expect(gh.pulls[0]!.body).toContain('Auto-merge is on');
  });

  it('leaves auto-merge off when the catalog does not declare it (no GraphQL call)', async () => {
    await setUp((c) => (c.apps.web!.release.autoMergeStaging = false));
    expect((await run('release', '--app', 'web', '--image', REPO, '--digest', NEW)).code).toBe(0);
    expect(gh.pulls[0]!.autoMerge).toBeNull();
    expect(gh.requests.some((r) => r.path === '/graphql')).toBe(false);
    expect(gh.pulls[0]!.body).toContain('Auto-merge is off');
  });

  it('fails loudly when the catalog asks for auto-merge and the repository does not allow it', async () => {
    await setUp(undefined, false);
    expect((await run('release', '--app', 'web', '--image', REPO, '--digest', NEW)).code).toBe(1);
    expect(errors).toEqual(['pipeline release: GitHub GraphQL enablePullRequestAutoMerge: Pull request Auto merge is not allowed for this repository']);
  });

  it('updates the pending pull request when a newer dispatch arrives, instead of opening a second', async () => {
    await setUp();
    expect((await run('release', '--app', 'web', '--image', REPO, '--digest', NEW)).code).toBe(0);
    const newer = registry.push(NAME, indexManifest('2.55'), '2.55');
    expect((await run('release', '--app', 'web', '--image', `${REPO}:2.55`, '--digest', newer)).code).toBe(0);
    expect(gh.pulls).toHaveLength(1);
    expect(gh.pulls[0]!.body).toContain(`| staging | web | ${link(OLD)} → ${link(newer)} |`);
    expect(catalogOn('release/web/staging').apps.web!.digests.staging).toBe(newer);
  });

  it('opens nothing when staging already runs the digest', async () => {
    await setUp();
    const { code, actions } = await run('release', '--app', 'web', '--image', REPO, '--digest', OLD);
    expect(code).toBe(0);
    expect(actions.outputs.changed).toBe('false');
    expect(gh.pulls).toEqual([]);
  });

  const bad: [string, string[], string][] = [
    ['an unknown app', ['--app', 'shop', '--image', REPO, '--digest', NEW], 'app: got "shop"; expected one of the catalog\'s apps: orders-api, web'],
    ['no app', ['--image', REPO, '--digest', NEW], "app: got nothing; expected one of the catalog's apps: orders-api, web"],
    ['a tag as the digest', ['--app', 'web', '--image', REPO, '--digest', '2.54'], 'digest: got "2.54"; expected a digest (sha256: and 64 lowercase hexadecimal digits), not the tag "2.54": a tag can be moved to another image, a digest names exactly one'],
    ['a digest with shell in it', ['--app', 'web', '--image', REPO, '--digest', `${NEW}$(id)`], `digest: got "${NEW}$(id)"; expected sha256: and 64 lowercase hexadecimal digits (it has 69 characters after sha256:, not all lowercase hexadecimal)`],
    ['an image of another repository', ['--app', 'web', '--image', 'ghcr.io/attacker/agnhost:2.54', '--digest', NEW], `image: got "ghcr.io/attacker/agnhost:2.54"; expected ${REPO}, the repository the catalog records for web, optionally followed by :<tag> or @${NEW}`],
    ['an image pinned to another digest', ['--app', 'web', '--image', `${REPO}@${OLD}`, '--digest', NEW], `image: got "${REPO}@${OLD}"; expected the digest it names to be the digest input (${NEW})`],
    ['no image', ['--app', 'web', '--digest', NEW], `image: got nothing; expected ${REPO}, the repository the catalog records for web, optionally followed by :<tag> or @${NEW}`],
  ];
  it.each(bad)('refuses %s with an exact message (exit 2), before any push or GitHub call', async (_name, args, message) => {
    await setUp();
    const branches = git(origin, 'branch', '--list');
    expect((await run('release', ...args)).code).toBe(2);
    expect(errors).toEqual([`pipeline release: ${message}`]);
    expect(git(origin, 'branch', '--list')).toBe(branches);
    expect(gh.requests).toEqual([]);
  });
});

describe('release --check (the signature hook\'s decision)', () => {
  it('asks the workflow to run cosign verify with the catalog\'s identity and issuer when the app requires signatures', async () => {
    const identity = 'https://github.com/hakube-platform/web/.github/workflows/build.yml@refs/heads/main';
    await setUp((c) => (c.apps.web!.signature = { certificateIdentity: identity, certificateOidcIssuer: 'https://token.actions.githubusercontent.com' }));
    const { code, actions } = await run('release', '--check', '--app', 'web', '--image', `${REPO}:2.54`, '--digest', NEW);
    expect(code).toBe(0);
    expect(actions.outputs).toEqual({ image_ref: `${REPO}@${NEW}`, verify_signature: 'true', certificate_identity: identity, certificate_oidc_issuer: 'https://token.actions.githubusercontent.com' });
    expect(gh.requests).toEqual([]);
  });

  it('skips verification when the catalog requires no signature', async () => {
    await setUp();
    const { actions } = await run('release', '--check', '--app', 'web', '--image', REPO, '--digest', NEW);
    expect(actions.outputs).toMatchObject({ verify_signature: 'false', certificate_identity: '' });
  });
});

describe('promote-release (staging → production) and rollback', () => {
  it('promotes exactly what staging runs on main: production and its standby move together, no auto-merge', async () => {
    await setUp();
    expect((await run('release', '--app', 'web', '--image', `${REPO}:2.54`, '--digest', NEW)).code).toBe(0);
    merge('release/web/staging');
    expect((await run('promote-release', '--app', 'web')).code).toBe(0);
    expect(catalogOn('release/web/production').apps.web!.digests).toEqual({ production: NEW, staging: NEW });
    for (const c of ['production', 'dr']) expect(onOrigin('release/web/production', `clusters/${c}/apps/images.yaml`)).toContain(`web: ${REPO}@${NEW}`);
    const pull = gh.pulls.find((p) => p.head.ref === 'release/web/production')!;
    expect(pull.title).toBe('promote web 2.54 to production');
    expect(pull.body.split('\n')).toEqual(expect.arrayContaining([`| production | web | ${link(OLD)} → ${link(NEW)} |`, `| dr | web | ${link(OLD)} → ${link(NEW)} |`]));
    expect(pull.autoMerge).toBeNull();
  });

  it('takes nothing from an unmerged staging release: main\'s staging digest is what it promotes', async () => {
    await setUp();
    expect((await run('release', '--app', 'web', '--image', REPO, '--digest', NEW)).code).toBe(0);
    const { code, actions } = await run('promote-release', '--app', 'web');
    expect(code).toBe(0);
    expect(actions.outputs.changed).toBe('false');
    expect(gh.pulls.map((p) => p.head.ref)).toEqual(['release/web/staging']);
  });

  it('rolls production back to an earlier release from the history', async () => {
    await setUp();
    await releaseAndPromote(NEW, '2.54');
    expect((await run('promote-release', '--app', 'web', '--digest', OLD)).code).toBe(0);
    expect(catalogOn('release/web/rollback').apps.web!.digests).toEqual({ production: OLD, staging: NEW });
    const pull = gh.pulls.find((p) => p.head.ref === 'release/web/rollback')!;
    expect(pull.title).toBe('roll back web to 2.53 in production');
    expect(pull.body).toContain(`| production | web | ${link(NEW)} → ${link(OLD)} |`);
  });

  it('keeps a pending rollback on its own branch: a later promotion does not force-push over it', async () => {
    await setUp();
    await releaseAndPromote(NEW, '2.54');
    expect((await run('promote-release', '--app', 'web', '--digest', OLD)).code).toBe(0);
    // While the rollback waits for review, a fixed version reaches staging and is promoted.
    const fixed = registry.push(NAME, indexManifest('2.55'), '2.55');
    await run('release', '--app', 'web', '--image', `${REPO}:2.55`, '--digest', fixed);
    merge('release/web/staging');
    expect((await run('promote-release', '--app', 'web')).code).toBe(0);
    expect(catalogOn('release/web/production').apps.web!.digests.production).toBe(fixed);
    expect(catalogOn('release/web/rollback').apps.web!.digests.production).toBe(OLD);
    expect(gh.pulls.filter((p) => p.head.ref.startsWith('release/web/')).map((p) => [p.head.ref, p.title])).toEqual(
      expect.arrayContaining([['release/web/rollback', 'roll back web to 2.53 in production'], ['release/web/production', 'promote web 2.55 to production']]),
    );
  });

  it('refuses a digest the history marks revoked: no rollback to it, no promotion of it from staging', async () => {
    const revokeOld = (catalog: Parameters<NonNullable<Parameters<typeof setUp>[0]>>[0]) => {
      const history = catalog.apps.web!.history as { digest: string; revoked?: boolean }[];
      history.find((r) => r.digest === OLD)!.revoked = true;
    };
    await setUp(revokeOld);
    // Staging (and production) run OLD at the start: promoting what staging runs is refused.
    expect((await run('promote-release', '--app', 'web')).code).toBe(2);
    expect(errors).toEqual([`pipeline promote-release: digest: got "${OLD}" (what staging runs); expected a digest web.history does not mark revoked: none`]);
    expect(gh.requests).toEqual([]);
    errors.length = 0;
    await releaseAndPromote(NEW, '2.54');
    const pulls = gh.pulls.length;
    expect((await run('promote-release', '--app', 'web', '--digest', OLD)).code).toBe(2);
    expect(errors).toEqual([`pipeline promote-release: digest: got "${OLD}"; expected a digest web.history does not mark revoked: ${NEW} (2.54)`]);
    expect(gh.pulls.length).toBe(pulls);
    expect(() => git(origin, 'rev-parse', '--verify', '--quiet', 'refs/heads/release/web/rollback')).toThrow();
  });

  it('refuses a rollback digest that was never released', async () => {
    await setUp();
    const never = `sha256:${'ab'.repeat(32)}`;
    expect((await run('promote-release', '--app', 'web', '--digest', never)).code).toBe(2);
    expect(errors).toEqual([`pipeline promote-release: digest: got "${never}"; expected a digest of web's history, released to staging before: ${OLD} (2.53)`]);
    expect(gh.requests).toEqual([]);
  });
});

describe('the registry check before any pull request (OCI distribution API, support/fake-registry.ts)', () => {
  const missing = manifestDigest(indexManifest('2.54-never-pushed'));

  it('fails a release whose digest the registry does not have, naming app, repository and digest: no branch, no pull request', async () => {
    await setUp();
    for (const check of [['--check'], []]) {
      errors.length = 0;
      expect((await run('release', ...check, '--app', 'web', '--image', REPO, '--digest', missing)).code).toBe(1);
      expect(errors).toEqual([`pipeline release: web: ${REPO}@${missing} is not in the registry (manifest ${missing} unknown in ${REPO}); expected the digest of an image pushed there`]);
    }
    expect(git(origin, 'branch', '--list').trim()).toBe('* main');
    expect(gh.requests).toEqual([]);
    // It asked the registry the way registries want: challenged, token for the repository, HEAD again with it.
    expect(registry.requests.slice(0, 3).map((q) => q.method)).toEqual(['HEAD', 'GET', 'HEAD']);
  });

  it('fails a release whose tag resolves to another digest than the dispatch names', async () => {
    await setUp();
    expect((await run('release', '--check', '--app', 'web', '--image', `${REPO}:2.54`, '--digest', OLD)).code).toBe(1);
    expect(errors).toEqual([`pipeline release: web: ${REPO}:2.54 resolves to ${NEW}; expected ${OLD}, the digest to deploy (the tag moved, or the digest is another image's)`]);
  });

  it('re-checks at promotion: an image deleted from the registry after staging got it never reaches production', async () => {
    await setUp();
    expect((await run('release', '--app', 'web', '--image', `${REPO}:2.54`, '--digest', NEW)).code).toBe(0);
    merge('release/web/staging');
    registry.remove(NAME, NEW);
    expect((await run('promote-release', '--app', 'web')).code).toBe(1);
    expect(errors).toEqual([`pipeline promote-release: web: ${REPO}@${NEW} is not in the registry (manifest ${NEW} unknown in ${REPO}); expected the digest of an image pushed there`]);
    expect(gh.pulls.map((p) => p.head.ref)).toEqual(['release/web/staging']);
  });
});

describe('private images: the catalog\'s registryAuth, credentials from env only', () => {
  const GHCR = 'ghcr.io/hakube/agnhost';
  const TOKEN = 'ghs_job_token_never_printed';
  let ghcr: FakeRegistry;
  let logs: string[];
  afterEach(async () => {
    await ghcr?.close();
    vi.unstubAllEnvs();
  });

  async function privateRun(registryAuth: string | undefined, ...args: string[]) {
    await setUp((c) => {
      c.apps.web!.repository = GHCR;
      if (registryAuth) c.apps.web!.registryAuth = registryAuth;
    });
    // ghcr.io: an anonymous token for anyone, the package readable with the job's token only.
    ghcr = await startFakeRegistry({ private: ['hakube/agnhost'], credentials: { username: 'github-actions', password: TOKEN } });
    ghcr.push('hakube/agnhost', indexManifest('2.54'), '2.54');
    logs = [];
    vi.mocked(console.log).mockImplementation((line: string) => void logs.push(line));
    const deps = { synth: fakeSynth, registryClient: { endpoint: () => ghcr.url } };
    const actions = recordingActions({ github: new GitHubClient({ token: 't0ken', repository, baseUrl: gh.url }) });
    const code = await main(args, clone(), platform, { actions, commands: { release: releaseCommand(deps), 'promote-release': promoteReleaseCommand(deps) } as never });
    return { code, actions };
  }

  it('--registry-auth sets the app\'s catalog registryAuth as the step output (the workflow assumes the release role for ecr only), and refuses an app not in the catalog', async () => {
    expect((await privateRun('github-token', 'release', '--registry-auth', '--app', 'web')).actions.outputs).toEqual({ registry_auth: 'github-token' });
    expect((await privateRun(undefined, 'release', '--registry-auth', '--app', 'web')).actions.outputs).toEqual({ registry_auth: 'anonymous' });
    const unknown = await privateRun(undefined, 'release', '--registry-auth', '--app', 'nope');
    expect(unknown.code).toBe(2);
    expect(unknown.actions.outputs).toEqual({});
  });

  it('checks a private ghcr.io package with REGISTRY_GITHUB_TOKEN from the environment and prints the token nowhere', async () => {
    vi.stubEnv('REGISTRY_GITHUB_TOKEN', TOKEN);
    const { code, actions } = await privateRun('github-token', 'release', '--check', '--app', 'web', '--image', `${GHCR}:2.54`, '--digest', NEW);
    expect(errors).toEqual([]);
    expect(code).toBe(0);
    expect(logs.join('\n')).toContain(`web: ${GHCR}@${NEW} is in the registry (application/vnd.oci.image.index.v1+json), and :2.54 resolves to it`);
    expect(JSON.stringify([logs, errors, actions.outputs])).not.toContain(TOKEN);
  });

  it('refuses the same package pulled anonymously (no registryAuth): unknown or private, not "not in the registry"', async () => {
    vi.stubEnv('REGISTRY_GITHUB_TOKEN', TOKEN);
    expect((await privateRun(undefined, 'release', '--check', '--app', 'web', '--image', GHCR, '--digest', NEW)).code).toBe(1);
    expect(errors).toEqual([`pipeline release: web: ${GHCR}@${NEW}: HEAD ${ghcr.url}/v2/hakube/agnhost/manifests/${NEW}: unknown or private repository (anonymous pull denied); the registry answered 401 (insufficient_scope)`]);
  });

  it('names the missing variable when the catalog asks for the GitHub token and the job passed none', async () => {
    vi.stubEnv('REGISTRY_GITHUB_TOKEN', '');
    expect((await privateRun('github-token', 'release', '--check', '--app', 'web', '--image', GHCR, '--digest', NEW)).code).toBe(1);
    expect(errors).toEqual([`pipeline release: web: ${GHCR}@${NEW}: REGISTRY_GITHUB_TOKEN: not set; expected the job's GITHUB_TOKEN with packages: read (registryAuth github-token)`]);
  });
});
