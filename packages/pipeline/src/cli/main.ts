import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultPlatform, type Platform } from '@platform/platform-config';
import { affectedClusters, manifestOnlyClusters } from '../affected-clusters';
import { affectedStacks } from '../affected-stacks';
import { applyOrder, applyStacks, renderApplySummary } from '../apply';
import { assertAppliable } from '../example-platform';
import { appliedBeyond, appliedRef, applyBase, markApplied } from '../applied-ref';
import { appliedBeyondOnGitHub, mergedPullRequestsSinceApplied } from '../applied-ref-github';
import { clusterMarker, planMarker } from '../comment';
import { gameDayTarget, insecureHttpsProbe, probeEndpoints, renderGameDaySummary, CI_IDENTITY_OUTPUTS, type ExperimentState } from '../game-day';
import { changedFilesSince, hasRemote, headCommit, isCommit } from '../git';
import { GitHubClient } from '../github';
import { BOT_AUTHOR, commitManifests } from '../manifest-commit';
import { fenced } from '../markdown';
import { clusterArtifactName, CLUSTERS_DIR, GITOPS_APP_DIR, INFRA_APP_DIR, pipelinePaths, type PipelinePaths } from '../paths';
import { summarizePlan } from '../plan-summary';
import { orderedStacks, runPullRequestFlow } from '../pr-flow';
import { exec, execOk } from '../private/exec';
import { promotedStandbyGuard } from '../promoted-standby';
import { protectedResourceRules } from '../protected-resources';
import { offlineUnavailableReason, planStack, PROVIDER_MIRROR, stackOutputs } from '../terraform';
import { ACCOUNT_ID_SECRET, accountOfRoleArn, roleVariables } from '../role-variables';
import { markNonManifestOnlyComments, markUnaffectedComments, reconcileDriftIssue, upsertComment } from '../upsert';
import { sourceRootsOf } from '../workspace';

/**
 * `npm run pipeline:<command>`: what each workflow step runs, runnable locally too.
 * Exit codes: 0 ok, 1 the check failed (gate closed, drift found, push failed), 2 bad usage.
 */

const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..');

class UsageError extends Error {}

function log(line: string): void {
  console.log(`pipeline: ${line}`);
}

function synth(repoRoot: string): void {
  log('synth: nx run-many -t synth --projects=infra,gitops');
  const started = Date.now();
  const result = exec('npx', ['nx', 'run-many', '-t', 'synth', '--projects=infra,gitops', '--outputStyle=static'], { cwd: repoRoot, stdio: 'inherit' });
  if (result.code !== 0) throw new Error(`synth failed (exit ${result.code})`);
  log(`synth: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function summary(markdown: string): void {
  if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, `${markdown}\n`);
}

function output(name: string, value: string): void {
  if (process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, `${name}=${value}\n`);
}

function github(): GitHubClient {
  const token = process.env.GITHUB_TOKEN;
  const repository = process.env.GITHUB_REPOSITORY;
  if (!token || !repository) throw new UsageError('GITHUB_TOKEN and GITHUB_REPOSITORY must be set to talk to GitHub');
  return new GitHubClient({ token, repository });
}

function pullRequestEvent(): { pull_request?: { number?: number; head?: { sha?: string } } } {
  const event = process.env.GITHUB_EVENT_PATH;
  return event && existsSync(event) ? JSON.parse(readFileSync(event, 'utf8')) : {};
}

function pullRequestNumber(): number {
  const number = pullRequestEvent().pull_request?.number;
  if (!number) throw new UsageError('no pull request in GITHUB_EVENT_PATH; commenting only works on pull_request events');
  return number;
}

/** A JSON array of stack names, as `pipeline:stacks` writes it. */
function stackList(option: string, json: string): string[] {
  let list: unknown;
  try {
    list = JSON.parse(json);
  } catch {
    list = undefined;
  }
  if (!Array.isArray(list) || !list.every((s) => typeof s === 'string')) throw new UsageError(`${option} ${json}: expected a JSON array of stack names, e.g. ["ci-identity"]`);
  return list;
}

function runUrl(): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run } = process.env;
  return server && repo && run ? `${server}/${repo}/actions/runs/${run}` : undefined;
}

/** PIPELINE_PROVIDER_MIRROR: a filesystem mirror path, or `none` to download providers (fork CI jobs). */
function providerMirror(): string | null {
  const value = process.env.PIPELINE_PROVIDER_MIRROR;
  return value === 'none' ? null : (value ?? PROVIDER_MIRROR);
}

function mode(value: string | undefined, checkMirror = true): 'offline' | 'cloud' {
  const m = value ?? 'offline';
  if (m !== 'offline' && m !== 'cloud') throw new UsageError(`--mode ${m}: expected offline or cloud`);
  if (m === 'offline' && checkMirror) {
    const reason = offlineUnavailableReason(providerMirror());
    if (reason) throw new Error(`SKIPPED: offline terraform plan impossible here: ${reason}`);
  }
  return m;
}

async function postComments(paths: PipelinePaths, stacks: readonly string[], clusters: readonly string[]): Promise<void> {
  const client = github();
  const issue = pullRequestNumber();
  for (const stack of stacks) {
    const body = readFileSync(join(paths.commentsDir, `${stack}.md`), 'utf8');
    const result = await upsertComment(client, issue, planMarker(stack), body);
    log(`${stack}: comment ${result.action} (#${result.id})`);
  }
  for (const cluster of clusters) {
    const body = readFileSync(join(paths.commentsDir, `${clusterArtifactName(cluster)}.md`), 'utf8');
    const result = await upsertComment(client, issue, clusterMarker(cluster), body);
    log(`cluster ${cluster}: comment ${result.action} (#${result.id})`);
  }
}

/** A JSON array of cluster names (`pipeline:stacks` output `clusters`), each a platform cluster. */
function clusterList(platform: Platform, option: string, json: string): string[] {
  const list = stackList(option, json);
  const unknown = list.filter((c) => !platform.clusters.some((k) => k.name === c));
  if (unknown.length > 0) throw new UsageError(`${option} ${json}: ${unknown.join(', ')} is no cluster; expected some of ${platform.clusters.map((c) => c.name).join(', ')}`);
  return list;
}

type Command = (args: string[], platform: Platform, paths: PipelinePaths) => Promise<number>;

const commands: Record<string, Command> = {
  /** The whole pull-request flow; `--post` upserts the comments (CI), else they are appended to the job summary. */
  async pr(args, platform, paths) {
    const { values } = parseArgs({
      args,
      options: { base: { type: 'string' }, mode: { type: 'string' }, stack: { type: 'string', multiple: true }, cluster: { type: 'string', multiple: true }, 'no-synth': { type: 'boolean' }, post: { type: 'boolean' } },
    });
    if (!values.base) throw new UsageError('--base <ref> is required, e.g. --base origin/main');
    const onlyClusters = values.cluster === undefined ? undefined : clusterList(platform, '--cluster', JSON.stringify(values.cluster));
    // Checked when a stack is planned (runPullRequestFlow): a manifest-only change needs no mirror.
    const m = mode(values.mode, false);
    const started = Date.now();
    if (!values['no-synth']) synth(paths.repoRoot);
    const result = runPullRequestFlow({ paths, platform, base: values.base, mode: m, mirror: providerMirror(), onlyStacks: values.stack, onlyClusters, runUrl: runUrl(), log });
    summary(readFileSync(result.summaryFile, 'utf8'));
    if (values.post) await postComments(paths, result.stacks.map((s) => s.stack.stack), result.clusters.map((c) => c.cluster.cluster));
    // Not posting (a fork's job has no token that may comment): the comments go to the job summary instead.
    else for (const outcome of [...result.stacks, ...result.clusters]) summary(readFileSync(outcome.commentFile, 'utf8'));
    log(`pull-request flow done in ${((Date.now() - started) / 1000).toFixed(1)} s; comments in ${paths.commentsDir}`);
    return 0;
  },

  /**
   * Affected stacks (or all) in dependency order, as JSON for a workflow matrix. A `--base`
   * that is no commit here (a push's `before` on a new branch or after a force push) selects
   * every stack: planning too much is safe, missing a stack is not. `--since-applied` (the
   * apply workflow) diffs against the last applied commit instead (see applied-ref.ts), so
   * merges whose run was cancelled or failed are applied by the next run.
   */
  async stacks(args, platform, paths) {
    const { values } = parseArgs({ args, options: { base: { type: 'string' }, all: { type: 'boolean' }, 'since-applied': { type: 'boolean' } } });
    if ([values.base !== undefined, values.all, values['since-applied']].filter(Boolean).length > 1) throw new UsageError('--base <ref>, --all and --since-applied exclude each other');
    const ordered = orderedStacks(paths, platform);
    let base = values.base ?? 'origin/main';
    let all = values.all ?? false;
    if (values['since-applied']) {
      const since = applyBase(paths.repoRoot, appliedRef(platform));
      console.error(`pipeline: ${since.reason}`);
      if (since.kind === 'since') base = since.base;
      else all = true;
    } else if (!all && !isCommit(paths.repoRoot, base)) {
      console.error(`pipeline: base ${base} is not a commit in this clone; selecting every stack`);
      all = true;
    }
    const changedFiles = all ? [] : changedFilesSince(paths.repoRoot, base);
    const affected = all ? ordered.map((stack) => ({ stack, cluster: platform.clusters.find((c) => platform.namesOf(c).stack === stack)?.name })) : affectedStacks({ changedFiles, platform, stacks: ordered, infraSourceRoots: sourceRootsOf(paths.repoRoot, INFRA_APP_DIR) });
    const list = affected.map((a) => a.stack);
    // Clusters whose manifests change with none of their stacks: each gets a comment of its own (pull requests).
    const clusters = all || values['since-applied'] ? [] : manifestOnlyClusters(affectedClusters({ changedFiles, platform, gitopsSourceRoots: sourceRootsOf(paths.repoRoot, GITOPS_APP_DIR) }), affected.map((a) => a.cluster)).map((c) => c.cluster);
    const json = JSON.stringify(list);
    console.log(json);
    if (clusters.length > 0) console.error(`pipeline: manifest-only clusters: ${clusters.join(', ')}`);
    output('stacks', json);
    output('any', list.length > 0 ? 'true' : 'false');
    output('clusters', JSON.stringify(clusters));
    output('any_clusters', clusters.length > 0 ? 'true' : 'false');
    return 0;
  },

  /**
   * Plan, protected-destroy gate and apply of each stack, one after another in dependency
   * order (CI, apply role, one job). The first stack that fails stops the ones after it.
   */
  async apply(args, platform, paths) {
    const { values } = parseArgs({ args, options: { stack: { type: 'string', multiple: true }, stacks: { type: 'string' }, sha: { type: 'string' }, 'dry-run': { type: 'boolean' } } });
    const requested = [...(values.stack ?? []), ...(values.stacks === undefined ? [] : stackList('--stacks', values.stacks))];
    if (requested.length === 0) throw new UsageError('--stack <name> (repeatable) or --stacks <JSON array of names> is required');
    const order = orderedStacks(paths, platform);
    try {
      applyOrder(requested, order);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const dryRun = values['dry-run'] ?? false;
    // A dry run plans offline and applies nothing, so an example platform may still rehearse it.
    if (!dryRun) {
      try {
        assertAppliable(platform);
      } catch (error) {
        summary(`## Terraform apply\n\n🛑 ${(error as Error).message}\n`);
        throw error;
      }
    }
    // A later merge's run may have applied first; applying this older commit would roll it back.
    // In CI through the API (the checkout keeps no credentials and one commit); locally through git.
    const onGitHub = Boolean(process.env.GITHUB_TOKEN && process.env.GITHUB_REPOSITORY);
    if (values.sha && !dryRun && (onGitHub || hasRemote(paths.repoRoot, 'origin'))) {
      const newer = onGitHub ? await appliedBeyondOnGitHub(github(), appliedRef(platform), values.sha) : appliedBeyond({ repo: paths.repoRoot, ref: appliedRef(platform), sha: values.sha });
      if (newer) {
        const message = `${appliedRef(platform)} already names ${newer.slice(0, 12)}, which includes ${values.sha.slice(0, 12)}: its stacks are applied from newer code; nothing applied`;
        log(message);
        summary(`## Terraform apply\n\n${message}\n`);
        return 0;
      }
    }
    let labelSources: string | undefined;
    const result = await applyStacks({
      stacks: requested,
      order,
      stacksDir: paths.stacksDir,
      rules: protectedResourceRules(platform),
      // Every pull request merged since the applied tag: this run may carry several merges.
      labels: async () => {
        const merged = await mergedPullRequestsSinceApplied(github(), appliedRef(platform), values.sha ?? headCommit(paths.repoRoot));
        labelSources = `Labels read from ${merged.pulls.length === 0 ? 'no merged pull request' : merged.pulls.map((p) => `#${p.number}`).join(', ')} (${merged.range}).`;
        log(labelSources);
        return merged.pulls.flatMap((p) => p.labels.map((l) => l.name));
      },
      // A promoted standby serves production traffic: its stack would reset the worker minimums.
      beforeStack: dryRun ? undefined : promotedStandbyGuard(platform, log),
      mode: dryRun ? mode('offline') : 'cloud',
      dryRun,
      mirror: providerMirror(),
      log,
    });
    summary(renderApplySummary(result) + (labelSources ? `\n${labelSources}\n` : ''));
    return result.ok ? 0 : 1;
  },

  /**
   * Edits the plan comments of stacks not in `--stacks` (the affected set of this push) to
   * say they are no longer affected as of the pull request's head commit.
   */
  async 'unaffected-comments'(args, platform, paths) {
    const { values } = parseArgs({ args, options: { stacks: { type: 'string' }, clusters: { type: 'string' }, sha: { type: 'string' } } });
    if (values.stacks === undefined) throw new UsageError('--stacks <JSON array of the affected stacks> is required');
    const affected = stackList('--stacks', values.stacks);
    const clusters = values.clusters === undefined ? undefined : clusterList(platform, '--clusters', values.clusters);
    const sha = values.sha || pullRequestEvent().pull_request?.head?.sha || headCommit(paths.repoRoot);
    const client = github();
    const issue = pullRequestNumber();
    const marked = await markUnaffectedComments(client, issue, affected, sha);
    for (const m of marked) log(`${m.stack}: no longer affected; comment #${m.id} ${m.action}`);
    // Without --clusters the cluster comments are left alone (an older workflow that does not pass them).
    const clustersMarked = clusters === undefined ? [] : await markNonManifestOnlyComments(client, issue, clusters, sha);
    for (const m of clustersMarked) log(`cluster ${m.cluster}: no longer a manifest-only change; comment #${m.id} ${m.action}`);
    summary(
      (marked.length === 0
        ? '### Plan comments\n\nNo plan comment of an unaffected stack.\n'
        : `### Plan comments\n\nMarked as no longer affected as of \`${sha.slice(0, 12)}\`: ${marked.map((m) => `\`${m.stack}\``).join(', ')}.\n`) +
        (clustersMarked.length === 0 ? '' : `\nCluster comments marked as no longer manifest-only as of \`${sha.slice(0, 12)}\`: ${clustersMarked.map((m) => `\`${m.cluster}\``).join(', ')}.\n`),
    );
    return 0;
  },

  /**
   * After a successful (or empty) apply: moves the applied tag on the remote to `--sha`,
   * the pushed commit, never backwards (see applied-ref.ts). Needs a push token.
   */
  async 'mark-applied'(args, platform, paths) {
    const { values } = parseArgs({ args, options: { sha: { type: 'string' }, remote: { type: 'string' } } });
    const ref = appliedRef(platform);
    const sha = values.sha || headCommit(paths.repoRoot);
    const result = markApplied({ repo: paths.repoRoot, ref, sha, remote: values.remote, log });
    const was = result.previous ? `\`${result.previous.slice(0, 12)}\`` : 'nothing';
    const line = {
      moved: `\`${ref}\` moved from ${was} to \`${sha.slice(0, 12)}\`.`,
      unchanged: `\`${ref}\` already names \`${sha.slice(0, 12)}\`.`,
      kept: `\`${ref}\` left at ${was}, a later applied commit that includes \`${sha.slice(0, 12)}\`.`,
    }[result.outcome];
    summary(`### Applied commit\n\n${line}\n`);
    return 0;
  },

  /** Synthesize manifests and push changes under clusters/ as a bot commit. */
  async 'commit-manifests'(args, _platform, paths) {
    const { values } = parseArgs({ args, options: { remote: { type: 'string' }, branch: { type: 'string' } } });
    const sha = headCommit(paths.repoRoot);
    const result = await commitManifests({
      repo: paths.repoRoot,
      paths: [CLUSTERS_DIR],
      synth: () => execOk('npx', ['nx', 'run', 'gitops:synth', '--outputStyle=static', '--skip-nx-cache'], { cwd: paths.repoRoot, stdio: 'inherit' }) as unknown as void,
      remote: values.remote,
      branch: values.branch,
      message: `chore(clusters): synthesize manifests for ${sha.slice(0, 12)}`,
      author: BOT_AUTHOR,
      log,
    });
    summary(`### Manifests\n\n${result.outcome === 'pushed' ? `Pushed \`${result.commit}\` after ${result.attempts} attempt(s).` : 'No change under clusters/.'}\n`);
    return 0;
  },

  /** `plan -detailed-exitcode` of one stack; opens, updates or closes its drift issue. */
  async drift(args, _platform, paths) {
    const { values } = parseArgs({ args, options: { stack: { type: 'string' }, 'no-issue': { type: 'boolean' } } });
    if (!values.stack) throw new UsageError('--stack <name> is required');
    // The drift role is read-only: no state lock.
    const plan = planStack({ stack: values.stack, stackDir: join(paths.stacksDir, values.stack), mode: 'cloud', lock: 'skip-read-only' });
    const s = summarizePlan(plan.planJson);
    const drifted = plan.exitCode === 2;
    const body = drifted
      ? `\`terraform plan\` of \`${values.stack}\` no longer matches main: ${s.add} to add, ${s.change} to change, ${s.destroy} to destroy.\n\nLast checked by ${runUrl() ?? 'a local run'} at commit \`${headCommit(paths.repoRoot).slice(0, 12)}\`.\n\n<details><summary>Plan</summary>\n\n${fenced(plan.planText.slice(0, 50_000))}\n\n</details>\n`
      : `\`${values.stack}\` matches main again (checked by ${runUrl() ?? 'a local run'}).\n`;
    summary(`### Drift: \`${values.stack}\`\n\n${drifted ? `⚠️ drift: ${s.add} to add, ${s.change} to change, ${s.destroy} to destroy` : '✅ no drift'}\n`);
    if (!values['no-issue']) log(`drift issue: ${(await reconcileDriftIssue(github(), values.stack, { drifted, body })).action}`);
    return drifted ? 1 : 0;
  },

  /** FIS AZ failure with availability probes; report in the job summary. */
  async 'game-day'(args, platform, paths) {
    const { values } = parseArgs({ args, options: { cluster: { type: 'string' }, az: { type: 'string' }, 'max-minutes': { type: 'string' }, 'interval-ms': { type: 'string' } } });
    if (!values.cluster || !values.az) throw new UsageError('--cluster <name> and --az <zone> are required');
    const stackDir = join(paths.stacksDir, platform.namesOf(values.cluster).stack);
    const target = gameDayTarget(platform, values.cluster, values.az, stackOutputs(stackDir));
    const region = platform.cluster(values.cluster).region;
    const aws = (...a: string[]) => JSON.parse(execOk('aws', [...a, '--region', region, '--output', 'json'])) as { experiment: ExperimentState };
    const started = aws('fis', 'start-experiment', '--experiment-template-id', target.templateId, '--tags', `GameDay=${values.cluster}-${values.az}`);
    const id = started.experiment.id;
    log(`FIS experiment ${id} started from template ${target.templateId}`);
    const intervalMs = Number(values['interval-ms'] ?? 2000);
    const maxProbes = Math.ceil((Number(values['max-minutes'] ?? 30) * 60_000) / intervalMs);
    let experiment = started.experiment;
    let lastCheck = 0;
    const finished = () => {
      if (Date.now() - lastCheck > 15_000) {
        lastCheck = Date.now();
        experiment = aws('fis', 'get-experiment', '--id', id).experiment;
      }
      return ['completed', 'stopped', 'failed', 'cancelled'].includes(experiment.state.status);
    };
    const endpoints = [
      { name: 'Kubernetes API', url: target.apiUrl, probe: insecureHttpsProbe(target.apiUrl) },
      ...(target.app ? [{ name: `sample app (${target.app.host} via the cluster's ingress)`, url: target.app.url, probe: insecureHttpsProbe(target.app.url, { host: target.app.host }) }] : []),
    ];
    const reports = await probeEndpoints(endpoints, { intervalMs, maxProbes, timeoutMs: Math.min(5000, intervalMs), shouldStop: finished });
    const status = experiment.state.status;
    const markdown = renderGameDaySummary({ cluster: values.cluster, az: values.az, experimentId: id, finalState: status, reason: experiment.state.reason, actions: experiment.actions, reports });
    summary(markdown);
    mkdirSync(paths.outDir, { recursive: true });
    writeFileSync(join(paths.outDir, `game-day-${values.cluster}.json`), JSON.stringify(reports, null, 2));
    console.log(markdown);
    return status === 'completed' ? 0 : 1;
  },

  /**
   * The region and role ARNs the workflows hand to configure-aws-credentials, derived from
   * platform-config and AWS_ACCOUNT_ID: printed, and written as step outputs in CI.
   * `--from-state` (once, with credentials): reads the applied ci-identity outputs, checks
   * they are the ARNs derived here, and prints the command that sets the secret.
   */
  async 'role-variables'(args, platform, paths) {
    const { values } = parseArgs({ args, options: { 'from-state': { type: 'boolean' } } });
    if (!values['from-state']) {
      for (const [name, value] of Object.entries(roleVariables(platform, process.env[ACCOUNT_ID_SECRET]))) {
        console.log(`${name}=${value}`);
        output(name, value);
      }
      return 0;
    }
    const stack = platform.names.ciIdentityStack;
    const outputs = stackOutputs(join(paths.stacksDir, stack));
    const plan = outputs[CI_IDENTITY_OUTPUTS.planRoleArn];
    if (typeof plan !== 'string') throw new Error(`stack ${stack} has no output ${CI_IDENTITY_OUTPUTS.planRoleArn}; apply it first`);
    const account = accountOfRoleArn(plan);
    const derived = roleVariables(platform, account);
    for (const key of [CI_IDENTITY_OUTPUTS.planRoleArn, CI_IDENTITY_OUTPUTS.applyRoleArn, CI_IDENTITY_OUTPUTS.driftRoleArn]) {
      if (outputs[key] !== derived[key]) throw new Error(`stack ${stack} output ${key} is ${JSON.stringify(outputs[key])}, but the workflows derive ${derived[key]} from platform-config; apply ${stack} first`);
    }
    console.log(`gh secret set ${ACCOUNT_ID_SECRET} --body '${account}'`);
    return 0;
  },

  /** Lists the comment files of the last `pipeline:pr` run (for scripts). */
  async comments(_args, _platform, paths) {
    if (existsSync(paths.commentsDir)) readdirSync(paths.commentsDir).forEach((f) => console.log(join(paths.commentsDir, f)));
    return 0;
  },
};

/** `platform` defaults to the shipped one; tests pass another (e.g. one that is not an example). */
export async function main(argv: readonly string[], repoRoot: string = process.env.PIPELINE_REPO_ROOT ?? REPO_ROOT, platform?: Platform): Promise<number> {
  const [command, ...rest] = argv;
  const run = command ? commands[command] : undefined;
  if (!run) {
    console.error(`usage: pipeline <${Object.keys(commands).join('|')}> [options]`);
    return 2;
  }
  try {
    return await run(rest, platform ?? defaultPlatform(), pipelinePaths(repoRoot));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`pipeline ${command}: ${message}`);
    return error instanceof UsageError || (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? 2 : 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
