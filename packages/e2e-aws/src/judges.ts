import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { parse } from 'yaml';

/** One finding of checkov or zizmor, keyed the way the baseline names it. */
export interface Finding {
  readonly tool: 'checkov' | 'zizmor';
  readonly rule: string;
  /** Repository-relative path. */
  readonly file: string;
  /** checkov: the resource (`aws_s3_bucket.x`, `Deployment.web.web`); zizmor: the YAML route (`jobs.apply.steps.0`). */
  readonly resource: string;
  readonly title: string;
}

/** A justified suppression: every field but `reason` is a glob (`*` any run of characters). */
export interface BaselineEntry {
  readonly tool: 'checkov' | 'zizmor';
  readonly rule: string;
  readonly file: string;
  readonly resource?: string;
  readonly reason: string;
}

/** What the judges read: the synthesized Terraform, the Flux manifests, the workflows. */
export const JUDGED = { terraform: 'apps/infra/cdktf.out/stacks', kubernetes: 'clusters', githubActions: '.github' } as const;

/** A baseline glob (`*` any run of characters) as a whole-string RegExp. */
export const glob = (pattern: string): RegExp => new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);

export function matches(entry: BaselineEntry, finding: Finding): boolean {
  return entry.tool === finding.tool && glob(entry.rule).test(finding.rule) && glob(entry.file).test(finding.file) && (entry.resource === undefined || glob(entry.resource).test(finding.resource));
}

export function loadBaseline(file: string): BaselineEntry[] {
  const entries = (parse(readFileSync(file, 'utf8')) as { suppressions?: BaselineEntry[] }).suppressions ?? [];
  for (const [i, e] of entries.entries()) {
    if (e.tool !== 'checkov' && e.tool !== 'zizmor') throw new Error(`${file}: suppressions[${i}].tool is ${JSON.stringify(e.tool)}; allowed: checkov, zizmor`);
    if (!e.rule || !e.file) throw new Error(`${file}: suppressions[${i}] needs rule and file`);
    if (typeof e.reason !== 'string' || e.reason.trim() === '' || e.reason.includes('\n')) throw new Error(`${file}: suppressions[${i}] (${e.rule} ${e.file}) needs a one-line reason`);
  }
  return entries;
}

/** Findings no baseline entry covers, and entries that cover no finding (stale: remove them). */
export function compareWithBaseline(findings: readonly Finding[], baseline: readonly BaselineEntry[]): { fresh: Finding[]; stale: BaselineEntry[] } {
  return {
    fresh: findings.filter((f) => !baseline.some((e) => matches(e, f))),
    stale: baseline.filter((e) => !findings.some((f) => matches(e, f))),
  };
}

interface CheckovReport {
  readonly check_type: string;
  readonly results: { readonly failed_checks: readonly { check_id: string; check_name: string; file_path: string; file_abs_path: string; resource: string }[] };
}

const FRAMEWORKS: readonly [keyof typeof JUDGED, string][] = [
  ['terraform', 'terraform_json'],
  ['kubernetes', 'kubernetes'],
  ['githubActions', 'github_actions'],
];

/**
 * A copy of the synthesized stacks under the same relative paths, less Terraform's `removed`
 * blocks: they only tell Terraform to forget old addresses (no resource), and checkov's JSON
 * parser rejects the whole file over them, which would judge nothing.
 */
function stacksForCheckov(repoRoot: string): string {
  const root = mkdtempSync(join(tmpdir(), 'judges-'));
  const stacks = join(repoRoot, JUDGED.terraform);
  for (const stack of readdirSync(stacks)) {
    const file = join(stacks, stack, 'cdk.tf.json');
    if (!existsSync(file)) continue;
    const { removed: _removed, ...rest } = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    mkdirSync(join(root, JUDGED.terraform, stack), { recursive: true });
    writeFileSync(join(root, JUDGED.terraform, stack, 'cdk.tf.json'), JSON.stringify(rest, null, 2));
  }
  return root;
}

/** checkov on `dir` read below `readRoot` (the repository, or a copy of part of it with the same paths). */
function checkovOnce(binDir: string, readRoot: string, dir: string, framework: string): Promise<Finding[]> {
  const repoRoot = readRoot;
  return new Promise((resolve, reject) => {
    const args = ['-d', dir, '--framework', framework, '--quiet', '--compact', '--skip-download', '--soft-fail', '-o', 'json'];
    const child = spawn(join(binDir, 'checkov'), args, { cwd: repoRoot, env: { ...process.env, BC_API_KEY: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`checkov ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`));
      // checkov logs a file it cannot parse and goes on without it: that file would pass unjudged.
      const unparsed = /Failed to parse [^\n]*/.exec(stderr);
      if (unparsed) return reject(new Error(`checkov ${args.join(' ')}: ${unparsed[0]}; it judged nothing of that file`));
      const parsed = JSON.parse(stdout) as CheckovReport | CheckovReport[];
      const reports = Array.isArray(parsed) ? parsed : [parsed];
      if (!reports.some((r) => r.check_type === framework)) return reject(new Error(`checkov reported no ${framework} results for ${dir}; it read nothing of that kind`));
      // checkov's paths differ by framework (relative to -d, to the working directory, or
      // doubled); the first candidate that exists is the file.
      const fileOf = (c: CheckovReport['results']['failed_checks'][number]) =>
        [c.file_abs_path, join(repoRoot, dir, c.file_path), join(repoRoot, c.file_path)].map((p) => (isAbsolute(p) ? p : join(repoRoot, p))).find((p) => existsSync(p)) ?? c.file_abs_path;
      resolve(reports.flatMap((r) => r.results.failed_checks.map((c) => ({ tool: 'checkov' as const, rule: c.check_id, file: relative(repoRoot, fileOf(c)), resource: c.resource, title: c.check_name }))));
    });
  });
}

/** checkov over the synthesized Terraform, the Flux manifests and .github, one process per framework, in parallel; offline (`--skip-download`). */
export async function runCheckov(binDir: string, repoRoot: string): Promise<Finding[]> {
  for (const dir of Object.values(JUDGED)) if (!existsSync(join(repoRoot, dir))) throw new Error(`judges: ${dir} does not exist; run npx nx run infra:synth first (the test target depends on it)`);
  const terraformRoot = stacksForCheckov(repoRoot);
  try {
    return (await Promise.all(FRAMEWORKS.map(([input, framework]) => checkovOnce(binDir, input === 'terraform' ? terraformRoot : repoRoot, JUDGED[input], framework)))).flat();
  } finally {
    rmSync(terraformRoot, { recursive: true, force: true });
  }
}

interface ZizmorFinding {
  readonly ident: string;
  readonly desc: string;
  readonly locations: readonly { readonly symbolic: { readonly key: { readonly Local?: { readonly verbatim_path: string } }; readonly route: { readonly route: readonly Record<string, string | number>[] } } }[];
}

/** zizmor over .github (workflows and the composite action), offline audits only. */
export function runZizmor(binDir: string, repoRoot: string): Finding[] {
  const out = execFileSync(join(binDir, 'zizmor'), ['--offline', '--no-exit-codes', '--format', 'json', JUDGED.githubActions], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return (JSON.parse(out) as ZizmorFinding[]).map((f) => {
    const primary = f.locations[0].symbolic;
    return {
      tool: 'zizmor' as const,
      rule: f.ident,
      file: primary.key.Local?.verbatim_path ?? '?',
      resource: primary.route.route.map((step) => Object.values(step)[0]).join('.'),
      title: f.desc,
    };
  });
}
