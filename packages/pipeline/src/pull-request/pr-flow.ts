import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Platform } from '@platform/platform-config';
import { affectedClusters, manifestOnlyClusters, type AffectedCluster } from './affected-clusters';
import { affectedStacks, preferredStackOrder, stacksInDependencyOrder, type AffectedStack, type StackManifest } from './affected-stacks';
import { GITHUB_COMMENT_LIMIT, renderClusterComment, renderPlanComment, type HaCheckResult } from './comment';
import { changedFilesSince, headCommit, mergeBaseOf, treeAtCommit, treeOnDisk } from '../io/git';
import { estimateStackCost, renderCostDelta } from './cost';
import { runHaCheck } from './ha-check';
import { diffManifests, forCluster, type ManifestDiff } from './manifest-diff';
import { table } from '../io/markdown';
import { CLUSTERS_DIR, clusterArtifactName, GITOPS_APP_DIR, INFRA_APP_DIR, planArtifactName, type PipelinePaths } from '../io/paths';
import { summarizePlan, type PlanSummary } from './plan-summary';
import { protectedDestroys, protectedResourceRules, type ProtectedDestroy } from '../apply/protected-resources';
import { offlineUnavailableReason, planStack, PROVIDER_MIRROR, type PlanRun, type TerraformRunner } from '../io/terraform';
import { sourceRootsOf } from '../io/workspace';
import { diffSynthesized, renderSynthesizedChange, type SynthesizedStack } from './synth-diff';

/**
 * The pull-request flow, the same locally and in CI: affected stacks, a plan per stack,
 * ha-check, the Flux object diff, and one comment file per stack. Posting the comments is
 * a separate step (see `postPlanComments`), so this part runs with no token and no network.
 */

export interface PullRequestFlowOptions {
  readonly paths: PipelinePaths;
  readonly platform: Platform;
  readonly base: string;
  readonly mode: 'offline' | 'cloud';
  /**
   * Plan only these stacks (CI matrix). With `onlyStacks` and no `onlyClusters`, no cluster
   * comment is written (the plan jobs leave those to the cluster job). Default every affected stack.
   */
  readonly onlyStacks?: readonly string[];
  /**
   * Write the comments of only these manifest-only clusters. With `onlyClusters` and no
   * `onlyStacks`, nothing is planned. Default every manifest-only cluster.
   */
  readonly onlyClusters?: readonly string[];
  readonly runner?: TerraformRunner;
  /** Provider mirror for offline plans; null downloads from the registry. */
  readonly mirror?: string | null;
  readonly haCheck?: (cluster: string) => HaCheckResult | { readonly skipped: string };
  readonly runUrl?: string;
  readonly log?: (line: string) => void;
  /** Maximum comment length. @default GITHUB_COMMENT_LIMIT */
  readonly commentLimit?: number;
  /**
   * The stacks folder (`cdktf.out/stacks`) synthesized at the merge base, for the synthesized
   * change and cost sections; undefined leaves them out ("not compared").
   * @default - not compared
   */
  readonly baseStacks?: (mergeBase: string) => string | undefined;
}

export interface StackOutcome {
  readonly stack: AffectedStack;
  readonly summary: PlanSummary;
  readonly protectedDestroys: readonly ProtectedDestroy[];
  readonly haCheck: HaCheckResult | undefined;
  readonly manifests: ManifestDiff | undefined;
  readonly commentFile: string;
  readonly planSeconds: number;
}

/** A cluster whose manifests change while none of its stacks is affected. */
export interface ClusterOutcome {
  readonly cluster: AffectedCluster;
  readonly haCheck: HaCheckResult | undefined;
  readonly manifests: ManifestDiff;
  readonly commentFile: string;
}

export interface PullRequestFlowResult {
  readonly base: string;
  readonly changedFiles: readonly string[];
  readonly stacks: readonly StackOutcome[];
  /** Manifest-only clusters and their comments. */
  readonly clusters: readonly ClusterOutcome[];
  readonly manifestDiff: ManifestDiff;
  readonly summaryFile: string;
}

export function readStackManifest(paths: PipelinePaths): StackManifest {
  return JSON.parse(readFileSync(join(paths.infraOut, 'manifest.json'), 'utf8')) as StackManifest;
}

export function orderedStacks(paths: PipelinePaths, platform: Platform): string[] {
  return stacksInDependencyOrder(readStackManifest(paths), preferredStackOrder(platform));
}

export function runPullRequestFlow(options: PullRequestFlowOptions): PullRequestFlowResult {
  const { paths, platform } = options;
  const log = options.log ?? (() => undefined);
  const mergeBase = mergeBaseOf(paths.repoRoot, options.base);
  const changedFiles = changedFilesSince(paths.repoRoot, options.base);
  const stacks = orderedStacks(paths, platform);
  const allStacks = affectedStacks({ changedFiles, platform, stacks, infraSourceRoots: sourceRootsOf(paths.repoRoot, INFRA_APP_DIR) });
  const allClusters = manifestOnlyClusters(
    affectedClusters({ changedFiles, platform, gitopsSourceRoots: sourceRootsOf(paths.repoRoot, GITOPS_APP_DIR) }),
    allStacks.map((a) => a.cluster),
  );
  const filtered = options.onlyStacks !== undefined || options.onlyClusters !== undefined;
  const affected = filtered ? allStacks.filter((a) => options.onlyStacks?.includes(a.stack)) : allStacks;
  const clusters = filtered ? allClusters.filter((c) => options.onlyClusters?.includes(c.cluster)) : allClusters;
  log(`changed files: ${changedFiles.length}; affected stacks: ${affected.map((a) => a.stack).join(', ') || 'none'}; manifest-only clusters: ${clusters.map((c) => c.cluster).join(', ') || 'none'}`);

  const manifestDiff = diffManifests(treeAtCommit(paths.repoRoot, mergeBase, CLUSTERS_DIR), treeOnDisk(paths.repoRoot, CLUSTERS_DIR));
  const rules = protectedResourceRules(platform);
  const commit = headCommit(paths.repoRoot);
  mkdirSync(paths.commentsDir, { recursive: true });
  mkdirSync(paths.plansDir, { recursive: true });

  const baseStacksDir = affected.length > 0 ? options.baseStacks?.(mergeBase) : undefined;
  const outcomes: StackOutcome[] = [];
  const unavailable = options.mode === 'offline' && options.runner === undefined && affected.length > 0 ? offlineUnavailableReason(options.mirror === undefined ? PROVIDER_MIRROR : options.mirror) : undefined;
  if (unavailable) throw new Error(`SKIPPED: offline terraform plan impossible here: ${unavailable}`);
  for (const stack of affected) {
    log(`${stack.stack}: terraform plan (${options.mode}) because ${stack.because} changed`);
    // The plan role is read-only: no state lock.
    const plan: PlanRun = planStack({ stack: stack.stack, stackDir: join(paths.stacksDir, stack.stack), mode: options.mode, runner: options.runner, mirror: options.mirror, lock: 'skip-read-only' });
    writeFileSync(join(paths.plansDir, `${stack.stack}.json`), JSON.stringify(plan.planJson));
    writeFileSync(join(paths.plansDir, `${stack.stack}.txt`), plan.planText);
    const summary = summarizePlan(plan.planJson);
    const destroys = protectedDestroys(summary, rules);
    let haCheck: HaCheckResult | undefined;
    if (stack.cluster) {
      const ha = (options.haCheck ?? ((c: string) => runHaCheck(paths.repoRoot, c)))(stack.cluster);
      if ('skipped' in ha) log(ha.skipped);
      else haCheck = ha;
    }
    const gitopsPath = stack.cluster ? platform.namesOf(stack.cluster).gitopsPath : undefined;
    const manifests = stack.cluster ? forCluster(manifestDiff, stack.cluster) : undefined;
    const body = renderPlanComment({
      stack: stack.stack,
      cluster: stack.cluster,
      summary,
      planText: plan.planText,
      protectedDestroys: destroys,
      haCheck,
      manifests,
      manifestsPath: gitopsPath,
      commit,
      artifact: planArtifactName(stack.stack),
      runUrl: options.runUrl,
      note: offlineNote(options.mode, plan, paths.repoRoot),
      ...synthesizedSections(platform, stack, paths.stacksDir, baseStacksDir, options.baseStacks !== undefined),
    }, options.commentLimit ?? GITHUB_COMMENT_LIMIT);
    const commentFile = join(paths.commentsDir, `${stack.stack}.md`);
    writeFileSync(commentFile, body);
    log(`${stack.stack}: ${summary.add} to add, ${summary.change} to change, ${summary.destroy} to destroy (${(plan.durationMs / 1000).toFixed(1)} s); comment ${commentFile}`);
    outcomes.push({ stack, summary, protectedDestroys: destroys, haCheck, manifests, commentFile, planSeconds: plan.durationMs / 1000 });
  }

  const clusterOutcomes: ClusterOutcome[] = [];
  for (const cluster of clusters) {
    log(`${cluster.cluster}: manifest-only change because ${cluster.because} changed; ha-check and Flux diff`);
    const ha = (options.haCheck ?? ((c: string) => runHaCheck(paths.repoRoot, c)))(cluster.cluster);
    if ('skipped' in ha) log(ha.skipped);
    const haCheck = 'skipped' in ha ? undefined : ha;
    const manifests = forCluster(manifestDiff, cluster.cluster);
    const body = renderClusterComment(
      { cluster: cluster.cluster, haCheck, manifests, manifestsPath: platform.namesOf(cluster.cluster).gitopsPath, commit, because: cluster.because, artifact: clusterArtifactName(cluster.cluster), runUrl: options.runUrl },
      options.commentLimit ?? GITHUB_COMMENT_LIMIT,
    );
    const commentFile = join(paths.commentsDir, `${clusterArtifactName(cluster.cluster)}.md`);
    writeFileSync(commentFile, body);
    log(`${cluster.cluster}: ${manifests.added.length} added, ${manifests.changed.length} changed, ${manifests.removed.length} removed objects; comment ${commentFile}`);
    clusterOutcomes.push({ cluster, haCheck, manifests, commentFile });
  }

  const summaryFile = join(paths.outDir, 'summary.md');
  writeFileSync(summaryFile, renderJobSummary(outcomes, manifestDiff, changedFiles.length, clusterOutcomes));
  const stackRows = outcomes.map((o) => ({ stack: o.stack.stack, cluster: o.stack.cluster, add: o.summary.add, change: o.summary.change, destroy: o.summary.destroy, protectedDestroys: o.protectedDestroys.length, haCheckExit: o.haCheck?.exitCode ?? null, comment: o.commentFile }));
  const clusterRows = clusterOutcomes.map((o) => ({ cluster: o.cluster.cluster, added: o.manifests.added.length, changed: o.manifests.changed.length, removed: o.manifests.removed.length, haCheckExit: o.haCheck?.exitCode ?? null, comment: o.commentFile }));
  writeFileSync(join(paths.outDir, 'result.json'), `${JSON.stringify({ base: options.base, mergeBase, commit, stacks: stackRows, clusters: clusterRows }, null, 2)}\n`);
  return { base: options.base, changedFiles, stacks: outcomes, clusters: clusterOutcomes, manifestDiff, summaryFile };
}

function readStack(stacksDir: string | undefined, stack: string): SynthesizedStack | undefined {
  const file = stacksDir ? join(stacksDir, stack, 'cdk.tf.json') : undefined;
  return file && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as SynthesizedStack) : undefined;
}

/** The synthesized-change and cost sections of one stack (none when the base was not asked for). */
function synthesizedSections(platform: Platform, stack: AffectedStack, headDir: string, baseDir: string | undefined, asked: boolean): { synthesized?: string; cost?: string } {
  if (!asked) return {};
  if (!baseDir) return { synthesized: renderSynthesizedChange(undefined) };
  const base = readStack(baseDir, stack.stack);
  const head = readStack(headDir, stack.stack);
  const synthesized = renderSynthesizedChange(diffSynthesized(base, head));
  if (!stack.cluster) return { synthesized };
  const region = platform.cluster(stack.cluster).region;
  return { synthesized, cost: renderCostDelta(stack.cluster, estimateStackCost(base, region), estimateStackCost(head, region)) };
}

function offlineNote(mode: 'offline' | 'cloud', plan: PlanRun, repoRoot: string): string | undefined {
  if (mode === 'cloud') return undefined;
  if (!plan.offlineState) return 'Offline plan (no state, no credentials, `-refresh=false`): every resource shows as new.';
  return `Offline plan against the local state \`${relative(repoRoot, plan.offlineState)}\` (no credentials, \`-refresh=false\`: the state as recorded, not as AWS has it now).`;
}

function haCell(ha: HaCheckResult | undefined): string {
  return ha === undefined ? 'not run' : ha.exitCode === 0 ? '✅' : ha.exitCode === 1 ? '❌' : `⚠️ exit ${ha.exitCode}`;
}

export function renderJobSummary(outcomes: readonly StackOutcome[], diff: ManifestDiff, changedFiles: number, clusters: readonly ClusterOutcome[] = []): string {
  const rows = outcomes.map((o) => [
    `\`${o.stack.stack}\``,
    String(o.summary.add),
    String(o.summary.change),
    String(o.summary.destroy),
    o.protectedDestroys.length > 0 ? `🛑 ${o.protectedDestroys.length}` : '0',
    haCell(o.haCheck),
  ]);
  const clusterTable =
    clusters.length === 0
      ? ''
      : `## Manifest-only clusters\n\nNo stack of these clusters is affected; each has its own comment with the ha-check report and the Flux diff.\n\n${table(
          ['cluster', 'added', 'changed', 'removed', 'ha-check'],
          clusters.map((c) => [`\`${c.cluster.cluster}\``, String(c.manifests.added.length), String(c.manifests.changed.length), String(c.manifests.removed.length), haCell(c.haCheck)]),
          ['l', 'r', 'r', 'r', 'l'],
        )}\n\n`;
  const plans = outcomes.length === 0 ? 'No Terraform stack is affected by this change.' : table(['stack', 'add', 'change', 'destroy', 'protected destroys', 'ha-check'], rows, ['l', 'r', 'r', 'r', 'r', 'l']);
  return `## Terraform plans\n\n${changedFiles} files changed.\n\n${plans}\n\n${clusterTable}## Flux changes under clusters/\n\n${diff.added.length} added, ${diff.changed.length} changed, ${diff.removed.length} removed objects.\n`;
}
