import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { WAL_ARCHIVE_TIMEOUT_SECONDS } from '@platform/platform-config';

/**
 * promote: the standby takes over; fence: the returned primary is stopped and backed up while the
 * standby serves; failback: the primary takes over again.
 */
export type FailoverAction = 'promote' | 'fence' | 'failback';

/**
 * Default bound on the wait for a demotion token: CloudNativePG's smartShutdownTimeout (180 s), the
 * last segment's archive (one archive timeout) and a reconcile (60 s). Past it the shutdown
 * checkpoint is not being archived, and the standby's users have been without an app all along.
 */
export const DEMOTION_TIMEOUT_SECONDS = 180 + WAL_ARCHIVE_TIMEOUT_SECONDS + 60;

export interface FailoverOptions {
  readonly action: FailoverAction;
  /** promote: the standby to promote; fence, failback: derived from the primary's `failover.standbyCluster`. */
  readonly standby?: string;
  /** fence, failback: the primary; promote: derived (the cluster whose standby is `standby`). */
  readonly primary?: string;
  /** Print mutating calls instead of running them. @default false */
  readonly dryRun: boolean;
  /**
   * Promote although Route 53 sees the primary healthy: its load balancer answers but its app or
   * database is broken. Fences the primary and moves DNS like any promotion. @default false
   */
  readonly force: boolean;
  /**
   * Game day: restore and verify the standby whatever the primary's health, but never fence the
   * primary nor open the standby's DNS (users stay on the primary). @default false
   */
  readonly drill: boolean;
  /**
   * Promote from an archive older than the staleness bound: the newest WAL object's LastModified
   * (ISO 8601, to the second) exactly as the refusal printed it, so the operator states the
   * point after which writes are lost. @default - none: a stale archive is refused
   */
  readonly acceptDataLossAfter?: string;
  /** Where fail-back records the restored database's archive server name (committed by the workflow). @default `<repo>/packages/platform-config/src/database-archives.ts` */
  readonly archivesFile: string;
  /** Where promotion and fail-back record which cluster serves (committed). @default `<repo>/packages/platform-config/src/failover-state.json` */
  readonly stateFile: string;
  /** The repository the recorded files belong to (paths in the printed commands are relative to it). */
  readonly repoRoot: string;
  /**
   * What the deploy-refs step does with Git: `print` the commands; `push`: commit the recorded
   * files, push the commit to `gitBranch` (fast-forward only) and move the affected clusters'
   * deploy refs to it (forward only). @default 'print'
   */
  readonly git: 'print' | 'push';
  /** @default 'origin' */
  readonly gitRemote: string;
  /** The branch the state commit is pushed to with `--git push`. @default 'main' */
  readonly gitBranch: string;
  /** Delete an existing PostgreSQL cluster of the same name on the restore target first. @default false */
  readonly replaceDatabase: boolean;
  /**
   * fail-back only: restore the primary from the standby's final backup and rebuild the standby
   * as a new replica (delete-and-restore), instead of the switchover (the primary rebuilt as a
   * replica of the standby, then a planned demotion/promotion with CloudNativePG's token). For a
   * replica that cannot catch up. @default false
   */
  readonly rebuild: boolean;
  /** Names the restored database's new backup folder and the final backup. @default UTC time, e.g. 20260101t120000 */
  readonly runId: string;
  /** Where the journal and rendered manifests go. @default `<tmpdir>/platform-failover/<runId>` */
  readonly outDir: string;
  /** Generated manifests, read for the database and app definitions. @default `<repo>/clusters` */
  readonly clustersDir: string;
  /** Seconds between polls. @default 15 */
  readonly pollSeconds: number;
  readonly timeouts: {
    /** @default 900 */ readonly asgSeconds: number;
    /** @default 600 */ readonly nodesSeconds: number;
    /** @default 1800 */ readonly databaseSeconds: number;
    /** @default 600 */ readonly appSeconds: number;
    /** @default 300 */ readonly dnsSeconds: number;
    /**
     * How long fail-back's switchover waits for the standby's `status.demotionToken` before it
     * puts the standby back in service (users have no app meanwhile). @default 300: CloudNativePG's
     * smartShutdownTimeout (180 s) + archiving the last segment (one archive timeout, 60 s) + a
     * reconcile (60 s)
     */
    readonly demotionSeconds: number;
  };
  /** HTTP probes through the ingress load balancer. @default 20 */
  readonly probeAttempts: number;
  /** @default '/' */
  readonly probePath: string;
  /** Flux Kustomization suspended before a database is replaced. @default 'apps' */
  readonly fluxKustomization: string;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const USAGE = `usage:
  failover pair (promote --standby <cluster> | fence --primary <cluster> | failback --primary <cluster>)   names for the workflow
  failover promote  --standby <cluster> [--dry-run] [--force | --drill] [--replace-database] [--accept-data-loss-after <time>] [options]
  failover fence    --primary <cluster> [--dry-run] [options]
  failover failback --primary <cluster> [--dry-run] [--replace-database] [--rebuild] [options]
options:
  --run-id <id>  --out-dir <dir>  --clusters-dir <dir>  --archives-file <file>  --state-file <file>  --poll-seconds <n>
  --git print|push  --git-remote <remote>  --git-branch <branch>
  --asg-timeout <s>  --nodes-timeout <s>  --db-timeout <s>  --app-timeout <s>  --dns-timeout <s>  --demotion-timeout <s>
  --probe-attempts <n>  --probe-path <path>  --flux-kustomization <name>`;

function positive(flag: string, raw: string | undefined, fallback: number, allowZero = false): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new UsageError(`--${flag}: got ${JSON.stringify(raw)}; expected a ${allowZero ? 'non-negative' : 'positive'} number`);
  }
  return value;
}

/** UTC, second precision, lowercase: usable in Kubernetes names and S3 prefixes. */
export function defaultRunId(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').toLowerCase();
}

export function parseOptions(argv: readonly string[], repoRoot: string, date = new Date()): FailoverOptions {
  const [action, ...rest] = argv;
  if (action !== 'promote' && action !== 'fence' && action !== 'failback') throw new UsageError(`unknown action ${JSON.stringify(action ?? '')}; expected promote, fence or failback\n${USAGE}`);
  let values;
  try {
    ({ values } = parseArgs({
      args: [...rest],
      strict: true,
      allowPositionals: false,
      options: {
        standby: { type: 'string' },
        primary: { type: 'string' },
        'dry-run': { type: 'boolean' },
        force: { type: 'boolean' },
        drill: { type: 'boolean' },
        'accept-data-loss-after': { type: 'string' },
        'archives-file': { type: 'string' },
        'state-file': { type: 'string' },
        git: { type: 'string' },
        'git-remote': { type: 'string' },
        'git-branch': { type: 'string' },
        'replace-database': { type: 'boolean' },
        rebuild: { type: 'boolean' },
        'run-id': { type: 'string' },
        'out-dir': { type: 'string' },
        'clusters-dir': { type: 'string' },
        'poll-seconds': { type: 'string' },
        'asg-timeout': { type: 'string' },
        'nodes-timeout': { type: 'string' },
        'db-timeout': { type: 'string' },
        'app-timeout': { type: 'string' },
        'dns-timeout': { type: 'string' },
        'demotion-timeout': { type: 'string' },
        'probe-attempts': { type: 'string' },
        'probe-path': { type: 'string' },
        'flux-kustomization': { type: 'string' },
      },
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  if (action === 'promote' && !values.standby) throw new UsageError(`promote needs --standby <cluster>\n${USAGE}`);
  if (action !== 'promote' && !values.primary) throw new UsageError(`${action} needs --primary <cluster>\n${USAGE}`);
  for (const flag of ['force', 'drill', 'accept-data-loss-after'] as const) {
    if (action !== 'promote' && values[flag] !== undefined) throw new UsageError(`--${flag} only applies to promote (${action} never overrides health or data checks)`);
  }
  if (action !== 'failback' && values.rebuild !== undefined) throw new UsageError(`--rebuild only applies to failback (${action} never rebuilds the primary's database)`);
  if (values.force && values.drill) throw new UsageError('--force and --drill exclude each other: --force fails over a broken primary, --drill never touches it');
  const acceptDataLossAfter = values['accept-data-loss-after'];
  if (acceptDataLossAfter !== undefined && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(acceptDataLossAfter)) {
    throw new UsageError(`--accept-data-loss-after: got ${JSON.stringify(acceptDataLossAfter)}; expected the newest WAL time the refusal printed, e.g. 2026-01-01T12:00:00Z`);
  }
  const runId = values['run-id'] ?? defaultRunId(date);
  if (!/^[a-z0-9]([a-z0-9-]{0,22}[a-z0-9])?$/.test(runId)) {
    throw new UsageError(`--run-id: got ${JSON.stringify(runId)}; expected 1-24 lowercase letters, digits or "-" (it becomes part of Kubernetes names)`);
  }
  const git = values.git ?? 'print';
  if (git !== 'print' && git !== 'push') throw new UsageError(`--git: got ${JSON.stringify(git)}; expected print (the commands are printed) or push (commit, push and move the deploy refs)`);
  if (action === 'fence' && values.git !== undefined) throw new UsageError('--git only applies to promote and failback (fence records nothing in Git)');
  const probePath = values['probe-path'] ?? '/';
  if (!probePath.startsWith('/')) throw new UsageError(`--probe-path: got ${JSON.stringify(probePath)}; expected a path starting with "/"`);
  return {
    action,
    standby: values.standby,
    primary: values.primary,
    dryRun: values['dry-run'] ?? false,
    force: values.force ?? false,
    drill: values.drill ?? false,
    ...(acceptDataLossAfter ? { acceptDataLossAfter } : {}),
    archivesFile: values['archives-file'] ?? join(repoRoot, 'packages/platform-config/src/database-archives.ts'),
    stateFile: values['state-file'] ?? join(repoRoot, 'packages/platform-config/src/failover-state.json'),
    repoRoot,
    git,
    gitRemote: values['git-remote'] ?? 'origin',
    gitBranch: values['git-branch'] ?? 'main',
    replaceDatabase: values['replace-database'] ?? false,
    rebuild: values.rebuild ?? false,
    runId,
    outDir: values['out-dir'] ?? join(tmpdir(), 'platform-failover', runId),
    clustersDir: values['clusters-dir'] ?? join(repoRoot, 'clusters'),
    pollSeconds: positive('poll-seconds', values['poll-seconds'], 15, true),
    timeouts: {
      asgSeconds: positive('asg-timeout', values['asg-timeout'], 900),
      nodesSeconds: positive('nodes-timeout', values['nodes-timeout'], 600),
      databaseSeconds: positive('db-timeout', values['db-timeout'], 1800),
      appSeconds: positive('app-timeout', values['app-timeout'], 600),
      dnsSeconds: positive('dns-timeout', values['dns-timeout'], 300),
      demotionSeconds: positive('demotion-timeout', values['demotion-timeout'], DEMOTION_TIMEOUT_SECONDS),
    },
    probeAttempts: Math.floor(positive('probe-attempts', values['probe-attempts'], 20)),
    probePath,
    fluxKustomization: values['flux-kustomization'] ?? 'apps',
  };
}
