import { recordFailover } from '../../apply/failover-record';
import { unappliedClusters } from '../../apply/unapplied-clusters';
import { synthManifests } from '../../io/synth';
import { clusterNames, parseOptions } from '../arguments';
import { UsageError, type Command } from '../command';

export interface RecordFailoverCommandOptions {
  readonly patch: string;
  readonly clusters: readonly string[];
  readonly message: string;
  readonly remote?: string;
  readonly branch?: string;
}

export interface RecordFailoverDeps {
  /** @default `nx run gitops:synth` (clusters/) */
  readonly synth?: (repoRoot: string) => void | Promise<void>;
}

/**
 * region-failover.yml's `record` job: commits the failover job's patch (the serving state, the
 * archive server name) with re-synthesized clusters/ to the main branch and moves the named
 * clusters' deploy refs to that commit, forward only. Exit 1 when a ref was refused.
 */
export function recordFailoverCommand(deps: RecordFailoverDeps = {}): Command<RecordFailoverCommandOptions> {
  return {
    description: "commit the failover run's recorded state to main and move the clusters' deploy refs to it",
    parse(args) {
      const v = parseOptions(args, { patch: { type: 'string' }, cluster: { type: 'string', multiple: true }, message: { type: 'string' }, remote: { type: 'string' }, branch: { type: 'string' } });
      if (!v.patch) throw new UsageError('--patch <file> (the failover job\'s git diff) is required');
      if (!v.cluster || v.cluster.length === 0) throw new UsageError('--cluster <name> (each cluster whose deploy ref moves) is required');
      if (!v.message) throw new UsageError('--message <commit message> is required');
      return { patch: v.patch, clusters: v.cluster, message: v.message, remote: v.remote, branch: v.branch };
    },
    async run(options, { platform, paths, actions, log }) {
      const clusters = clusterNames(platform, '--cluster', options.clusters);
      const result = await recordFailover({
        repo: paths.repoRoot,
        patch: options.patch,
        clusters,
        message: options.message,
        synth: () => (deps.synth ?? synthManifests)(paths.repoRoot),
        remote: options.remote,
        branch: options.branch ?? platform.settings.github.mainBranch,
        log,
        unapplied: (base) => unappliedClusters(paths, platform, base),
      });
      if (result.outcome === 'nothing') {
        actions.summary('### Failover state\n\nNothing recorded (a drill changes no file): no commit, no deploy ref moved.\n');
        return 0;
      }
      const rows = result.refs.map((r) => `| ${r.cluster} | \`${r.ref.replace('refs/heads/', '')}\` | ${{ moved: `➡️ moved to \`${result.commit.slice(0, 12)}\``, unchanged: 'already there', annotated: 'already there', kept: 'kept on a later commit', refused: `❌ refused: ${r.error}`, held: `⏸️ held (Flux stays where it is; keep its \`apps\` suspended until the apply's deploy job moves the ref): ${r.error}` }[r.result]} |`);
      actions.summary(`### Failover state\n\n${result.pushed ? `Committed and pushed \`${result.commit}\`` : `\`${result.commit}\` already held this state`}.\n\n| cluster | ref | result |\n| --- | --- | --- |\n${rows.join('\n')}\n`);
      const refused = result.refs.filter((r) => r.result === 'refused');
      if (refused.length > 0) throw new Error(refused.map((r) => r.error).join('; '));
      return 0;
    },
  };
}
