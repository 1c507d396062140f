import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultPlatform } from '@platform/platform-config';
import { runHaCheck } from './ha-check';
import { HaCheckInputError } from './input-error';
import { ManifestFiles } from './manifests';
import { DEFAULT_OBJECTIVES, objectivesForCluster, objectivesFromFile, type Objectives } from './objectives';
import { findPromotionPath } from './promotion';
import { formatJson } from './report/json';
import { formatMarkdown } from './report/markdown';
import { formatText } from './report/text';

export const EXIT = { met: 0, notMet: 1, badInput: 2, internal: 3 } as const;

export const USAGE = `Usage: ha-check [--cluster <name>] [--terraform <file|dir>]... [--manifests <dir>]
                [--objectives <file>] [--format text|markdown|json] [--output <file>]

Simulates losing each Availability Zone and the region for one cluster, from its
synthesized Terraform (cdk.tf.json or \`terraform show -json\` of a plan) and its
Flux manifests, and checks the result against the cluster's objectives.

  --cluster <name>       use the repo's conventions: apps/infra/cdktf.out/stacks/<name>-cluster,
                         clusters/<name>, and the objectives declared in platform-config
  --terraform <path>     cdk.tf.json / plan JSON file, or a directory searched recursively
                         (repeatable; overrides the --cluster default)
  --manifests <dir>      the cluster folder Flux reconciles (overrides the --cluster default)
  --standby-terraform <path>
                         the standby's Terraform, to check its failover record too (repeatable;
                         --cluster without --terraform: apps/infra/cdktf.out/stacks/<standby>-cluster)
  --ci-identity <path>   the CI identity stack's Terraform: who can assume each role and what
                         it reaches (--cluster without --terraform: apps/infra/cdktf.out/stacks/ci-identity)
  --objectives <file>    JSON/YAML objectives; default: the cluster's, else survive one AZ
                         and keep backups replicated to another region
  --format <f>           text (default), markdown (PR comment) or json
  --output <file>        write the report to a file instead of stdout
  --builder <b>          how to build manifests: auto (default), kubectl, files
  --repo-root <dir>      repository root (default: nearest folder with nx.json)
  --charts <dir>         stored charts, <chart>/<version>/values.yaml: the defaults of each
                         release's pinned version (default: <repo root>/../shared/charts)
  -h, --help             this text

Exit codes: 0 objectives met, 1 objectives not met, 2 bad input, 3 internal error.
`;

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly cwd: string;
}

const defaultIo: CliIo = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), cwd: process.cwd() };

function findRepoRoot(start: string): string {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    if (dirname(dir) === dir) return resolve(start);
  }
}

/** Stacks of one cluster: `<name>-cluster` and any `<name>-*` stack beside it. */
function clusterStacks(root: string, cluster: string, stack: string): string[] {
  const stacksDir = join(root, 'apps', 'infra', 'cdktf.out', 'stacks');
  if (!existsSync(stacksDir)) throw new HaCheckInputError(`${stacksDir}: not found; run \`npm run synth\` first (or pass --terraform)`);
  const dirs = readdirSync(stacksDir)
    .filter((d) => d === stack || d.startsWith(`${cluster}-`))
    .sort()
    .map((d) => join(stacksDir, d));
  if (dirs.length === 0) throw new HaCheckInputError(`${stacksDir}: no stack ${stack}; run \`npm run synth\` first (or pass --terraform)`);
  return dirs;
}

/** Runs the CLI; returns the exit code instead of exiting so tests and other scripts can call it. */
export async function main(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        cluster: { type: 'string' },
        terraform: { type: 'string', multiple: true },
        manifests: { type: 'string' },
        'standby-terraform': { type: 'string', multiple: true },
        'ci-identity': { type: 'string', multiple: true },
        objectives: { type: 'string' },
        format: { type: 'string', default: 'text' },
        output: { type: 'string' },
        builder: { type: 'string', default: 'auto' },
        'repo-root': { type: 'string' },
        charts: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      io.stdout(USAGE);
      return EXIT.met;
    }
    const format = values.format ?? 'text';
    if (!['text', 'markdown', 'json'].includes(format)) throw new HaCheckInputError(`--format ${format}: expected text, markdown or json`);
    const builder = values.builder ?? 'auto';
    if (!['auto', 'kubectl', 'files'].includes(builder)) throw new HaCheckInputError(`--builder ${builder}: expected auto, kubectl or files`);
    const root = resolve(io.cwd, values['repo-root'] ?? findRepoRoot(io.cwd));
    const fromCwd = (p: string): string => resolve(io.cwd, p);

    let terraform = (values.terraform ?? []).map(fromCwd);
    let manifests = values.manifests ? fromCwd(values.manifests) : undefined;
    let standbyTerraform = (values['standby-terraform'] ?? []).map(fromCwd);
    let ciIdentityTerraform = (values['ci-identity'] ?? []).map(fromCwd);
    let objectives: Objectives = values.objectives ? objectivesFromFile(fromCwd(values.objectives)) : DEFAULT_OBJECTIVES;
    // The promotion path reads clusters/<primary> and clusters/<standby>: the build reuses what it parsed.
    const manifestFiles = new ManifestFiles();
    if (values.cluster) {
      const clusterObjectives = objectivesForCluster(values.cluster);
      const platform = defaultPlatform();
      const names = platform.namesOf(values.cluster);
      const standby = clusterObjectives.standbyCluster;
      if (terraform.length === 0) {
        terraform = clusterStacks(root, values.cluster, names.stack);
        const standbyStack = standby ? join(root, 'apps', 'infra', 'cdktf.out', 'stacks', platform.namesOf(standby).stack) : undefined;
        if (standbyTerraform.length === 0 && standbyStack && existsSync(standbyStack)) standbyTerraform = [standbyStack];
        const ciStack = join(root, 'apps', 'infra', 'cdktf.out', 'stacks', platform.names.ciIdentityStack);
        if (ciIdentityTerraform.length === 0 && existsSync(ciStack)) ciIdentityTerraform = [ciStack];
      }
      manifests ??= join(root, names.gitopsPath);
      // The promotion path (this repository's workflow and script, found on disk) and how the
      // cluster decides a failover (its platform-config) are facts, not objectives: they hold
      // whichever objectives are judged, the cluster's or a file given with --objectives.
      const judged = values.objectives ? objectives : clusterObjectives;
      const promotion = judged.promotion ?? findPromotionPath(values.cluster, judged, root, manifestFiles);
      const failoverDecision = judged.failoverDecision ?? clusterObjectives.failoverDecision;
      objectives = { ...judged, ...(promotion ? { promotion } : {}), ...(failoverDecision ? { failoverDecision } : {}) };
    }
    if (terraform.length === 0 || manifests === undefined) {
      throw new HaCheckInputError(`pass --cluster <name>, or both --terraform and --manifests\n\n${USAGE}`);
    }
    const output = values.output ? fromCwd(values.output) : undefined;
    // Checked before the analysis: a report that cannot be written is bad input, not an internal error.
    if (output && !(existsSync(dirname(output)) && statSync(dirname(output)).isDirectory())) {
      throw new HaCheckInputError(`--output ${values.output}: folder ${dirname(output)} does not exist; create it first or choose another path`);
    }
    const charts = values.charts ? fromCwd(values.charts) : resolve(root, '..', 'shared', 'charts');
    const report = runHaCheck({ terraform, manifests, objectives, standbyTerraform, ciIdentityTerraform, cluster: values.cluster, builder: builder as 'auto' | 'kubectl' | 'files', charts, manifestFiles });
    const text = format === 'json' ? formatJson(report) : format === 'markdown' ? formatMarkdown(report) : formatText(report);
    if (output) {
      try {
        writeFileSync(output, text);
      } catch (error) {
        throw new HaCheckInputError(`--output ${values.output}: cannot write (${(error as Error).message})`);
      }
    }
    else io.stdout(text);
    return report.summary.objectivesMet ? EXIT.met : EXIT.notMet;
  } catch (error) {
    if (error instanceof HaCheckInputError) {
      io.stderr(`ha-check: ${error.message}\n`);
      return EXIT.badInput;
    }
    const e = error as Error & { code?: string };
    // parseArgs reports unknown or malformed flags with these codes: that is bad input too.
    if (typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`ha-check: ${e.message}\n\n${USAGE}`);
      return EXIT.badInput;
    }
    io.stderr(`ha-check: internal error: ${e.message ?? String(error)}${process.env.HA_CHECK_DEBUG ? `\n${e.stack}` : ' (set HA_CHECK_DEBUG=1 for the stack)'}\n`);
    return EXIT.internal;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
