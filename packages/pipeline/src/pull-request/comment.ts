import { details, fenced, headLines, table } from '../io/markdown';
import { isEmptyDiff, type ManifestDiff, type ObjectChange } from './manifest-diff';
import { planDigest, planDigestComment } from './plan-digest';
import type { PlanSummary } from './plan-summary';
import { PROTECTED_DESTROY_LABEL, type ProtectedDestroy } from '../apply/protected-resources';

/**
 * The pull-request comment for one stack. Reviewers read top-down, so destroys and
 * replacements come first, then the counts, then the folded detail.
 */

/** GitHub rejects issue comment bodies longer than 65,536 characters. */
export const GITHUB_COMMENT_LIMIT = 65_536;

/** The hidden marker that finds this stack's comment again, so it is updated in place. */
export function planMarker(stack: string): string {
  return `<!-- ha-kube-pipeline:plan stack=${stack} -->`;
}

/** The stack whose plan marker `body` carries, or undefined for any other comment. */
export function planMarkerStack(body: string): string | undefined {
  return /<!-- ha-kube-pipeline:plan stack=([\w.-]+) -->/.exec(body)?.[1];
}

/**
 * What a stack's comment says once a later push leaves the stack unaffected: short, with the
 * marker kept, so the comment is found again if the stack becomes affected once more.
 */
export function noLongerAffectedComment(stack: string, commit: string): string {
  return `${planMarker(stack)}\n\n### Terraform plan: \`${stack}\`\n\nNo longer affected by this pull request as of commit \`${commit.slice(0, 12)}\`: the plan shown here before is out of date.\n`;
}

export interface HaCheckResult {
  /** 0 objectives met, 1 not met, 2 bad input; undefined when it did not run. */
  readonly exitCode: number | undefined;
  readonly markdown: string;
}

export interface PlanCommentInput {
  readonly stack: string;
  readonly cluster: string | undefined;
  readonly summary: PlanSummary;
  /** The human-readable plan (`terraform plan -no-color` output without progress lines, see planOutputText). */
  readonly planText: string;
  readonly protectedDestroys: readonly ProtectedDestroy[];
  readonly haCheck: HaCheckResult | undefined;
  /** Flux changes of this stack's cluster; undefined for stacks without a cluster. */
  readonly manifests: ManifestDiff | undefined;
  readonly manifestsPath: string | undefined;
  readonly commit: string;
  /** Name of the artifact holding the full plan. */
  readonly artifact: string;
  /** Link to the workflow run, when there is one. */
  readonly runUrl?: string;
  /** A note such as "offline plan: no state, no credentials". */
  readonly note?: string;
  /** The "Synthesized change" section (synth-diff.ts): cdk.tf.json at the merge base → here. */
  readonly synthesized?: string;
  /** The monthly cost delta section of the stack's cluster (cost.ts). */
  readonly cost?: string;
}

function callOuts(input: PlanCommentInput): string {
  const { summary } = input;
  if (summary.deletions.length + summary.replacements.length === 0) return '';
  const protectedAt = new Map(input.protectedDestroys.map((p) => [p.address, p]));
  const line = (address: string, what: string) => {
    const p = protectedAt.get(address);
    return `> - **${what}** \`${address}\`${p ? ` — 🛑 protected ${p.why}` : ''}`;
  };
  const head = `> [!CAUTION]\n> **${summary.deletions.length} to destroy, ${summary.replacements.length} to replace**`;
  const lines = [...summary.deletions.map((d) => line(d.address, 'destroy')), ...summary.replacements.map((r) => line(r.address, 'replace'))];
  const gate =
    input.protectedDestroys.length > 0
      ? [`>`, `> Apply on merge stops here unless this pull request has the \`${PROTECTED_DESTROY_LABEL}\` label.`]
      : [];
  return [head, ...lines, ...gate].join('\n');
}

function counts(summary: PlanSummary): string {
  if (!summary.hasChanges) return '**No changes.** The infrastructure matches the configuration.';
  return table(['to add', 'to change', 'to destroy'], [[String(summary.add), String(summary.change), String(summary.destroy)]], ['r', 'r', 'r']);
}

function haSection(ha: HaCheckResult | undefined, cluster: string | undefined, body: string): string {
  if (!cluster) return '';
  if (!ha) return `#### HA check\n\nNot run for \`${cluster}\`.`;
  const status = ha.exitCode === 0 ? '✅ objectives met' : ha.exitCode === 1 ? '❌ objectives not met' : `⚠️ could not check (exit ${ha.exitCode})`;
  return `#### HA check: ${status}\n\n${details(`ha-check report for \`${cluster}\``, body, ha.exitCode === 1)}`;
}

function manifestRows(list: readonly ObjectChange[]): string[][] {
  return list.map((c) => [c.change, c.kind, c.namespace ?? '', c.name, c.fields.join(', ')]);
}

function manifestSection(input: Pick<PlanCommentInput, 'manifests' | 'manifestsPath' | 'artifact'>, maxRows: number): string {
  if (!input.manifests || !input.manifestsPath) return '';
  const d = input.manifests;
  const title = `#### Flux changes under \`${input.manifestsPath}/\``;
  if (isEmptyDiff(d)) return `${title}\n\nNo Kubernetes object changes.`;
  const rows = manifestRows([...d.removed, ...d.changed, ...d.added]);
  const shown = rows.slice(0, maxRows);
  const more = rows.length > shown.length ? `\n\n…and ${rows.length - shown.length} more objects (see the artifact \`${input.artifact}\`).` : '';
  return `${title}\n\n**${d.added.length} added, ${d.changed.length} changed, ${d.removed.length} removed**\n\n${details('Objects', table(['change', 'kind', 'namespace', 'name', 'fields'], shown) + more)}`;
}

function planSection(input: PlanCommentInput, budget: number): string {
  const full = input.planText.replace(/\n+$/, '');
  const fits = headLines(full, Math.max(0, budget));
  const body =
    fits.kept === fits.total
      ? fenced(full)
      : `${fenced(fits.text)}\n\n> ✂️ Plan truncated to fit GitHub's comment limit: ${fits.kept} of ${fits.total} lines shown. The full plan is in the workflow artifact \`${input.artifact}\`.`;
  return details(`Show plan (${fits.total} lines)`, body);
}

function assemble(input: PlanCommentInput, plan: string, ha: string, manifests: string): string {
  const where = input.cluster ? ` (cluster \`${input.cluster}\`)` : '';
  const footer = [`commit \`${input.commit.slice(0, 12)}\``, input.runUrl ? `[workflow run](${input.runUrl})` : '', `full plan: artifact \`${input.artifact}\``]
    .filter(Boolean)
    .join(' · ');
  return joinSections([
    planMarker(input.stack),
    planDigestComment(planDigest(input.summary)),
    `### Terraform plan: \`${input.stack}\`${where}`,
    input.note ? `> ${input.note}` : '',
    callOuts(input),
    counts(input.summary),
    input.cost ?? '',
    input.synthesized ?? '',
    plan,
    ha,
    manifests,
    `<sub>${footer}</sub>`,
  ]);
}

/**
 * Renders the comment within `limit` characters: the plan text gives way first, then the
 * ha-check report and the object list, each with a note pointing at the artifact.
 */
export function renderPlanComment(input: PlanCommentInput, limit: number = GITHUB_COMMENT_LIMIT): string {
  const haBody = input.haCheck?.markdown.trim() ?? '';
  const full = assemble(input, planSection(input, Infinity), haSection(input.haCheck, input.cluster, haBody), manifestSection(input, Infinity));
  if (full.length <= limit) return full;

  // Shrink the other sections to at most a quarter of the limit each, then give the plan what is left.
  const quarter = Math.floor(limit / 4);
  let ha = haSection(input.haCheck, input.cluster, haBody);
  if (ha.length > quarter) {
    const cut = headLines(haBody, quarter - 400);
    ha = haSection(input.haCheck, input.cluster, `${cut.text}\n\n> ✂️ ha-check report truncated: ${cut.kept} of ${cut.total} lines shown; run \`npx ha-check --cluster ${input.cluster} --format markdown\` for all of it.`);
  }
  let rows = Infinity;
  let manifests = manifestSection(input, rows);
  while (manifests.length > quarter && rows > 0) {
    rows = rows === Infinity ? 200 : Math.floor(rows / 2);
    manifests = manifestSection(input, rows);
  }
  const skeleton = assemble(input, planSection(input, 0), ha, manifests);
  const budget = limit - skeleton.length - 16;
  const out = assemble(input, planSection(input, budget), ha, manifests);
  if (out.length > limit) throw new Error(`comment for ${input.stack} is ${out.length} characters even after truncation; limit ${limit}`);
  return out;
}

/** The hidden marker of a manifest-only cluster's comment (no stack of it affected). */
export function clusterMarker(cluster: string): string {
  return `<!-- ha-kube-pipeline:cluster cluster=${cluster} -->`;
}

/** The cluster whose cluster marker `body` carries, or undefined for any other comment. */
export function clusterMarkerCluster(body: string): string | undefined {
  return /<!-- ha-kube-pipeline:cluster cluster=([\w.-]+) -->/.exec(body)?.[1];
}

/**
 * What a cluster's comment says once a later push makes it no manifest-only change: either
 * the pull request no longer changes its manifests, or one of its stacks is now affected and
 * that stack's plan comment carries the report. Marker kept, as for plan comments.
 */
export function noLongerManifestOnlyComment(cluster: string, commit: string): string {
  return `${clusterMarker(cluster)}\n\n### Manifests: cluster \`${cluster}\`\n\nNo longer a manifest-only change of this pull request as of commit \`${commit.slice(0, 12)}\`: either its manifests no longer change, or its stack's plan comment now carries the ha-check report and the Flux diff.\n`;
}

export interface ClusterCommentInput {
  readonly cluster: string;
  readonly haCheck: HaCheckResult | undefined;
  readonly manifests: ManifestDiff;
  readonly manifestsPath: string;
  readonly commit: string;
  /** The changed file that selected the cluster. */
  readonly because: string;
  /** Name of the artifact holding this comment. */
  readonly artifact: string;
  readonly runUrl?: string;
}

function assembleCluster(input: ClusterCommentInput, ha: string, manifests: string): string {
  const footer = [`commit \`${input.commit.slice(0, 12)}\``, input.runUrl ? `[workflow run](${input.runUrl})` : '', `artifact \`${input.artifact}\``].filter(Boolean).join(' · ');
  return joinSections([
    clusterMarker(input.cluster),
    `### Manifests: cluster \`${input.cluster}\``,
    `No Terraform stack of \`${input.cluster}\` is affected; \`${input.because}\` changes what Flux reconciles from \`${input.manifestsPath}/\`.`,
    ha,
    manifests,
    `<sub>${footer}</sub>`,
  ]);
}

/**
 * The comment of a cluster whose manifests change while none of its stacks does: the
 * ha-check report and the Flux diff, within `limit` (the report gives way first, to half
 * the limit, then the object list).
 */
export function renderClusterComment(input: ClusterCommentInput, limit: number = GITHUB_COMMENT_LIMIT): string {
  const haBody = input.haCheck?.markdown.trim() ?? '';
  let ha = haSection(input.haCheck, input.cluster, haBody);
  let rows = Infinity;
  let manifests = manifestSection(input, rows);
  const full = assembleCluster(input, ha, manifests);
  if (full.length <= limit) return full;
  const half = Math.floor(limit / 2);
  if (ha.length > half) {
    const cut = headLines(haBody, half - 400);
    ha = haSection(input.haCheck, input.cluster, `${cut.text}\n\n> ✂️ ha-check report truncated: ${cut.kept} of ${cut.total} lines shown; run \`npx ha-check --cluster ${input.cluster} --format markdown\` for all of it.`);
  }
  while (assembleCluster(input, ha, manifests).length > limit && rows > 0) {
    rows = rows === Infinity ? 200 : Math.floor(rows / 2);
    manifests = manifestSection(input, rows);
  }
  const out = assembleCluster(input, ha, manifests);
  if (out.length > limit) throw new Error(`comment for cluster ${input.cluster} is ${out.length} characters even after truncation; limit ${limit}`);
  return out;
}

/** A comment's sections, the empty ones left out, a blank line between. */
function joinSections(sections: readonly string[]): string {
  return `${sections.filter((section) => section !== '').join('\n\n')}\n`;
}
