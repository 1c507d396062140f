import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrapNames, loadPlatform, platformInput, ServiceAccountIdentity, type ServiceAccountIdentityStage } from '@platform/platform-config';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { APPLIED_RECORD_HEADER, appliedRecordMessage, parseAppliedRecord, readAppliedRecord } from '../src/apply/applied-record';
import { appliedRef, markApplied } from '../src/apply/applied-ref';
import { appliedIdentityStages, identityRollGuard } from '../src/apply/identity-roll';
import { main } from '../src/cli/main';
import { awsCliIdentityRoll } from '../src/io/aws-identity-roll';
import { controlPlaneGroups } from '../src/operations/control-plane-roll';
import { IDENTITY_STAGES_FILE, identityStagesFileText } from '../src/io/committed-identity-stages';
import { fakeAwsIdentity } from './support/fake-aws-identity';
import { git, tempRepo, writeFiles } from './support/git';

/**
 * The applied tag carries the applied commit's record (each cluster's identity stage), written by
 * mark-applied with that commit's own code; the identity-roll gate of a later apply reads it instead
 * of importing old platform-config. Real git: a bare origin and a fresh clone per workflow job (what
 * actions/checkout with fetch-depth 0 gives). The scratch repository has no platform-config at all:
 * a gate that imported the applied commit's code would fail here.
 */

/** The platform with production at `stage` (the others complete). */
const at = (stage: ServiceAccountIdentityStage) =>
  loadPlatform({ ...structuredClone(platformInput), clusters: platformInput.clusters.map((c) => (c.name === 'production' ? { ...c, serviceAccountIdentity: ServiceAccountIdentity.of(stage) } : c)) });

const ref = appliedRef(at('complete'));

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

function setup() {
  const seed = tempRepo({ 'README.md': 'v1\n' }, 'pipeline-record-seed-');
  const origin = mkdtempSync(join(tmpdir(), 'pipeline-record-origin-'));
  git(origin, 'clone', '--quiet', '--bare', seed, '.');
  const checkout = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'pipeline-record-run-'));
    git(dir, 'clone', '--quiet', origin, '.');
    return dir;
  };
  const merge = (text: string): string => {
    const dir = checkout();
    writeFiles(dir, { 'README.md': text });
    git(dir, 'commit', '--quiet', '-am', text.trim());
    git(dir, 'push', '--quiet', 'origin', 'HEAD:main');
    return git(dir, 'rev-parse', 'HEAD').trim();
  };
  return { origin, checkout, merge, seed: git(origin, 'rev-parse', 'main').trim() };
}

/** `pipeline mark-applied` in `repo` with `platform` as the checked-out code; the job summary it wrote. */
async function markAppliedCli(repo: string, platform: ReturnType<typeof at>, ...argv: string[]): Promise<{ code: number; summary: string; stderr: string[] }> {
  const summaryFile = join(mkdtempSync(join(tmpdir(), 'pipeline-record-summary-')), 'summary.md');
  writeFileSync(summaryFile, '');
  vi.stubEnv('GITHUB_STEP_SUMMARY', summaryFile);
  const stderr: string[] = [];
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  vi.spyOn(console, 'error').mockImplementation((line: string) => stderr.push(line));
  const code = await main(['mark-applied', ...argv], repo, platform);
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  return { code, summary: readFileSync(summaryFile, 'utf8'), stderr };
}

/** Production's three control-plane nodes, each having recorded `stage` at boot. */
async function nodesAt(stage: ServiceAccountIdentityStage) {
  const platform = at(stage);
  const cluster = platform.cluster('production');
  const names = platform.namesOf(cluster);
  const fake = fakeAwsIdentity({ instances: controlPlaneGroups(cluster, names).map((group, i) => ({ id: `i-cp0${i + 1}`, group, state: 'running' })) });
  for (let i = 1; i <= 3; i++) await fake.boot(bootstrapNames(names).identityStageRecords, `i-cp0${i}`, stage);
  return fake;
}

/** The merge apply's identity-roll guard (as merge-apply-guards.ts wires it) for head `platform` in checkout `repo`, before production's stack. */
async function gate(repo: string, platform: ReturnType<typeof at>, fake: Awaited<ReturnType<typeof nodesAt>>): Promise<{ error?: string; log: string[] }> {
  const log: string[] = [];
  const guard = identityRollGuard(platform, () => appliedIdentityStages(platform, repo, (l) => log.push(l)), (c) => awsCliIdentityRoll(c.region, fake.aws), (l) => log.push(l));
  try {
    await guard(platform.namesOf('production').stack);
    return { log };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error), log };
  }
}

describe('mark-applied records the applied commit with the tag', () => {
  it("writes an annotated tag whose record holds every cluster's identity stage of the checked-out commit", async () => {
    const { origin, checkout, seed } = setup();
    const result = await markAppliedCli(checkout(), at('sign-with-issuer'), '--sha', seed);
    expect(result.code).toBe(0);
    expect(git(origin, 'cat-file', '-t', ref).trim()).toBe('tag');
    expect(git(origin, 'rev-parse', `${ref}^{commit}`).trim()).toBe(seed);
    expect(readAppliedRecord(origin, ref, seed)).toEqual({
      commit: seed,
      clusters: { dr: { serviceAccountIdentity: 'complete' }, production: { serviceAccountIdentity: 'sign-with-issuer' }, staging: { serviceAccountIdentity: 'complete' } },
      identityStageRecords: true,
    });
    expect(result.summary).toContain(`\`${ref}\` moved from nothing to \`${seed.slice(0, 12)}\`, recording its identity stages (staging complete, production sign-with-issuer, dr complete).`);
    // Run again: nothing to push.
    expect((await markAppliedCli(checkout(), at('sign-with-issuer'), '--sha', seed)).summary).toContain(`already names \`${seed.slice(0, 12)}\` with its record`);
  });

  it('refuses a --sha other than the checkout (the record is read from the checked-out platform-config), and moves nothing', async () => {
    const { origin, checkout, merge, seed } = setup();
    const later = merge('v2\n');
    const dir = checkout();
    const result = await markAppliedCli(dir, at('complete'), '--sha', seed);
    expect(result.code).toBe(1);
    expect(result.stderr.join('\n')).toContain(`--sha ${seed}: the checkout is at ${later}; the applied record is read from the checked-out platform-config, so check out ${seed.slice(0, 12)} first`);
    expect(git(origin, 'for-each-ref', ref).trim()).toBe('');
  });

  it('adds the record to a tag written before records existed (same commit, lightweight), leased like any move', async () => {
    const { origin, checkout, seed } = setup();
    // What the apply workflow wrote until now: a lightweight tag.
    markApplied({ repo: checkout(), ref, sha: seed });
    expect(git(origin, 'cat-file', '-t', ref).trim()).toBe('commit');
    const result = await markAppliedCli(checkout(), at('accept-issuer'), '--sha', seed);
    expect(result.summary).toContain(`already named \`${seed.slice(0, 12)}\` without a record (written before records existed); its identity stages are recorded now (staging complete, production accept-issuer, dr complete).`);
    expect(readAppliedRecord(origin, ref, seed)?.clusters.production).toEqual({ serviceAccountIdentity: 'accept-issuer' });
  });
});

describe('the identity-roll gate reads the recorded stages, never the applied commit\'s code', () => {
  it('refuses a skipped stage, naming the cluster, the recorded stage, the requested one and the only one allowed next', async () => {
    const { checkout, merge, seed } = setup();
    await markAppliedCli(checkout(), at('accept-issuer'), '--sha', seed);
    merge('v2\n');
    const result = await gate(checkout(), at('web-identity'), await nodesAt('accept-issuer'));
    expect(result.error).toBe(
      `production: serviceAccountIdentity moves from accept-issuer (applied at ${seed.slice(0, 12)}) to web-identity, 2 stages in one apply; the only stage this apply may move to is sign-with-issuer. ` +
        'The applied tag moves only at the end of an apply job that went through (inside the terraform-apply group, so never behind an apply that finished), hence the apply of the commit at sign-with-issuer failed, was cancelled or was not approved. ' +
        'Apply that commit first: re-run all jobs of its apply.yml run (apply, control-plane roll, applied tag; docs/runbooks/service-account-issuer.md), then re-run all jobs of this one.',
    );
    expect(result.log).toContain(`identity-roll: the applied stages as ${ref} (${seed.slice(0, 12)}) records them`);
  });

  it('allows one step once every node runs the recorded stage, and refuses it while one does not', async () => {
    const { checkout, merge, seed } = setup();
    await markAppliedCli(checkout(), at('accept-issuer'), '--sha', seed);
    merge('v2\n');
    const ready = await gate(checkout(), at('sign-with-issuer'), await nodesAt('accept-issuer'));
    expect(ready.error).toBeUndefined();
    expect(ready.log).toContain('production: every running control-plane node (i-cp01, i-cp02, i-cp03) runs accept-issuer: moving to sign-with-issuer');
    // The record, not today's code, says what was applied: nodes still on the stage before it are behind.
    const fake = await nodesAt('accept-issuer');
    const platform = at('web-identity');
    const next = merge('v3\n');
    await markAppliedCli(checkout(), at('sign-with-issuer'), '--sha', next);
    merge('v4\n');
    expect((await gate(checkout(), platform, fake)).error).toContain('production: serviceAccountIdentity moves from sign-with-issuer to web-identity, but not every running control-plane node runs sign-with-issuer yet');
  });

  it('falls back once to the applied commit\'s code when the tag carries no record, says so, and reads the record after the next mark-applied', async () => {
    const { checkout, merge, seed } = setup();
    markApplied({ repo: checkout(), ref, sha: seed });
    merge('v2\n');
    const log: string[] = [];
    const fallback = vi.fn(async () => ({ stages: { staging: 'complete', production: 'accept-issuer', dr: 'complete' }, stageRecords: true }));
    expect(await appliedIdentityStages(at('complete'), checkout(), (l) => log.push(l), fallback)).toEqual({ stages: { staging: 'complete', production: 'accept-issuer', dr: 'complete' }, stageRecords: true, commit: seed });
    expect(fallback).toHaveBeenCalledWith(expect.any(String), seed);
    expect(log).toEqual([
      `identity-roll: ${ref} (${seed.slice(0, 12)}) carries no applied record (tagged before mark-applied recorded one): falling back, this once, to loading that commit's platform-config; the next mark-applied records the stages with the tag`,
    ]);
    // The real fallback imports that commit's platform-config: this scratch repository has none, so it fails closed.
    expect((await gate(checkout(), at('sign-with-issuer'), await nodesAt('accept-issuer'))).error).toMatch(/Cannot find module '.*\/packages\/platform-config\/src\/index\.ts'/);

    // This run's manifests job records the applied commit: the next apply reads data, no fallback.
    const applied = merge('v3\n');
    await markAppliedCli(checkout(), at('accept-issuer'), '--sha', applied);
    merge('v4\n');
    fallback.mockClear();
    expect(await appliedIdentityStages(at('complete'), checkout(), () => undefined, fallback)).toEqual({ stages: { dr: 'complete', production: 'accept-issuer', staging: 'complete' }, stageRecords: true, commit: applied });
    expect(fallback).not.toHaveBeenCalled();
  });
});

describe('a tag without a record, on a commit that carries identity-stages.json', () => {
  it('reads the committed file (data, no import, no fallback)', async () => {
    const { checkout, seed } = setup();
    const dir = checkout();
    writeFiles(dir, { [IDENTITY_STAGES_FILE]: identityStagesFileText(at('accept-issuer')) });
    git(dir, 'add', '--all');
    git(dir, 'commit', '--quiet', '-m', 'stages file');
    git(dir, 'push', '--quiet', 'origin', 'HEAD:main');
    const withFile = git(dir, 'rev-parse', 'HEAD').trim();
    expect(withFile).not.toBe(seed);
    markApplied({ repo: dir, ref, sha: withFile });
    const log: string[] = [];
    const fallback = vi.fn(async () => ({ stages: {}, stageRecords: false }));
    expect(await appliedIdentityStages(at('sign-with-issuer'), checkout(), (l) => log.push(l), fallback)).toEqual({
      stages: { dr: 'complete', production: 'accept-issuer', staging: 'complete' },
      stageRecords: true,
      commit: withFile,
    });
    expect(fallback).not.toHaveBeenCalled();
    expect(log).toEqual([`identity-roll: ${ref} (${withFile.slice(0, 12)}) carries no applied record: the applied stages as that commit's ${IDENTITY_STAGES_FILE} records them`]);
  });
});

describe('mark-applied --record: the way out when the tag has no record and the fallback cannot load', () => {
  it("the gate's refusal names the command; the record written by hand for the tag's commit is what the next gate reads", async () => {
    const { origin, checkout, merge, seed } = setup();
    // A tag from before records, and a commit whose platform-config does not load (this scratch repository has none).
    markApplied({ repo: checkout(), ref, sha: seed });
    merge('v2\n');
    const refused = await gate(checkout(), at('sign-with-issuer'), await nodesAt('accept-issuer'));
    expect(refused.error).toContain(`identity-roll: ${ref} (${seed.slice(0, 12)}) carries no applied record, and that commit's platform-config does not load here (`);
    expect(refused.error).toContain(
      `Write its record by hand with the stages that commit declares (packages/platform-config/src/clusters/*.ts at ${seed.slice(0, 12)}): ` +
        '`npm run pipeline:mark-applied -- --record --stage staging=<stage> --stage production=<stage> --stage dr=<stage>` (a push token; docs/runbooks/deploy-refs.md, "The applied tag by hand"), then re-run this apply.',
    );

    const result = await markAppliedCli(checkout(), at('sign-with-issuer'), '--record', '--stage', 'production=accept-issuer', '--stage', 'staging=complete', '--stage', 'dr=absent');
    expect(result.code).toBe(0);
    // The tag did not move; it is annotated now, with the operator's stages (dr did not exist then: not recorded, not checked).
    expect(git(origin, 'cat-file', '-t', ref).trim()).toBe('tag');
    expect(git(origin, 'rev-parse', `${ref}^{commit}`).trim()).toBe(seed);
    // identityStageRecords derived from that commit's files (git grep): this one has no platform-config.
    expect(readAppliedRecord(origin, ref, seed)).toEqual({ commit: seed, clusters: { production: { serviceAccountIdentity: 'accept-issuer' }, staging: { serviceAccountIdentity: 'complete' } }, identityStageRecords: false });
    expect(result.summary).toContain(`\`${ref}\` (\`${seed.slice(0, 12)}\`) had no record; recorded by hand: production accept-issuer, staging complete; nodes record their stage: no.`);
    // The next gate reads the record: one step from accept-issuer; the nodes (which record nothing at that commit) are not asked.
    const passed = await gate(checkout(), at('sign-with-issuer'), await nodesAt('accept-issuer'));
    expect(passed.error).toBeUndefined();
    expect(passed.log).toContain(`identity-roll: the applied stages as ${ref} (${seed.slice(0, 12)}) records them`);

    // Once a record exists, --record refuses: the record written with the tag is never overwritten by hand.
    const again = await markAppliedCli(checkout(), at('sign-with-issuer'), '--record', '--stage', 'production=complete', '--stage', 'staging=complete', '--stage', 'dr=absent');
    expect(again.code).toBe(1);
    expect(again.stderr.join('\n')).toContain(`${ref} (${seed.slice(0, 12)}) already carries an applied record: --record only writes a missing one`);
    expect(readAppliedRecord(origin, ref, seed)?.clusters.production).toEqual({ serviceAccountIdentity: 'accept-issuer' });
  });

  it('refuses, before any push, stages that do not name every cluster once at a known stage, and --sha with --record', async () => {
    const { origin, checkout, seed } = setup();
    markApplied({ repo: checkout(), ref, sha: seed });
    const cases: [string[], string][] = [
      [['--stage', 'production=accept-issuer', '--stage', 'staging=complete'], '--stage: no stage given for dr; expected --stage <cluster>=<stage> for every cluster (staging, production, dr), absent for one the applied commit did not define'],
      [['--stage', 'production=accept', '--stage', 'staging=complete', '--stage', 'dr=complete'], '--stage production=accept: stage accept is unknown; expected one of accept-issuer, sign-with-issuer, web-identity, complete, absent (absent: the cluster did not exist at the applied commit)'],
      [['--stage', 'prod=complete', '--stage', 'staging=complete', '--stage', 'dr=complete'], '--stage prod=complete: prod is no cluster; expected one of staging, production, dr'],
      [['--stage', 'production', '--stage', 'staging=complete', '--stage', 'dr=complete'], '--stage production: expected <cluster>=<stage>, e.g. staging=accept-issuer'],
      [['--stage', 'dr=complete', '--stage', 'dr=absent', '--stage', 'staging=complete', '--stage', 'production=complete'], '--stage dr=absent: dr is given twice'],
      [['--sha', seed, '--stage', 'dr=complete'], '--record writes the record of the commit the applied tag names: give no --sha'],
    ];
    for (const [args, message] of cases) {
      const result = await markAppliedCli(checkout(), at('complete'), '--record', ...args);
      expect(result.code, message).not.toBe(0);
      expect(result.stderr.join('\n')).toContain(message);
    }
    expect(git(origin, 'cat-file', '-t', ref).trim()).toBe('commit');
  });
});

describe('parseAppliedRecord', () => {
  const commit = 'c'.repeat(40);
  const record = { commit, clusters: { production: { serviceAccountIdentity: 'complete' } }, identityStageRecords: true };

  it('reads what appliedRecordMessage writes; a message without the header is no record', () => {
    expect(parseAppliedRecord(appliedRecordMessage(record), commit)).toEqual(record);
    expect(parseAppliedRecord('by hand\n', commit)).toBeUndefined();
  });

  it('refuses unreadable data and the data of another commit (a gate must not guess)', () => {
    expect(() => parseAppliedRecord(`${APPLIED_RECORD_HEADER}\n\n{`, commit)).toThrow(`applied record of ${commit.slice(0, 12)}: not JSON after "${APPLIED_RECORD_HEADER}"`);
    expect(() => parseAppliedRecord(`${APPLIED_RECORD_HEADER}\n\n${JSON.stringify({ ...record, clusters: { production: { stage: 'complete' } } })}`, commit)).toThrow(
      `applied record of ${commit.slice(0, 12)}: expected {commit, clusters: {<name>: {serviceAccountIdentity}}, identityStageRecords}, got`,
    );
    expect(() => parseAppliedRecord(appliedRecordMessage({ ...record, commit: 'd'.repeat(40) }), commit)).toThrow(`applied record describes dddddddddddd, but the tag names cccccccccccc: refusing data of another commit`);
  });
});
