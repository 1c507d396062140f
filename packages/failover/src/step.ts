import type { ClusterDefinition, ClusterNames, Platform } from '@platform/platform-config';
import type { Commands } from './commands';
import type { GitPort } from './git-port';
import type { FailoverRecords } from './route53';
import type { FailoverOptions } from './options';

/** What steps learn and later steps need (Route 53 ids, ASG sizes before the change). */
export interface Facts {
  hostedZoneId?: string;
  primaryHealthCheckId?: string;
  secondaryHealthCheckId?: string;
  /** Both failover records as the preflight found them. */
  records?: FailoverRecords;
  /** fail-back: the promotion it returns from, as the standby's marker records it. */
  promotion?: { readonly runId: string; readonly since: Date; readonly restoredBy?: string };
  /** promote, fail-back: the commit that records the new serving state in Git (DeployRefs moves the ref to it). */
  stateCommit?: string;
  /** Files this run changed in the repository (committed by the GitPort or by hand). */
  changedFiles?: string[];
  /** fail-back by switchover: the standby's `status.demotionToken`, read after its demotion (promote-primary needs it). */
  demotionToken?: string;
  /** fail-back: the archive server names record-archive-server-name wrote into Git. */
  archiveServers?: { readonly primary: string; readonly standby: string };
  /** fence: why there is nothing to fence yet (standby not promoted, primary not back); the CLI exits 3. */
  notDue?: string;
}

export interface StepContext {
  readonly platform: Platform;
  /** The cluster that normally serves (has `failover.standbyCluster`). */
  readonly primary: ClusterDefinition;
  readonly standby: ClusterDefinition;
  readonly options: FailoverOptions;
  readonly cli: Commands;
  /** Commits and moves deploy refs; undefined: the deploy-refs step prints the commands. */
  readonly git?: GitPort;
  readonly facts: Facts;
  namesOf(cluster: ClusterDefinition): ClusterNames;
  /** A line for the journal and the terminal. */
  note(text: string): void;
  sleep(seconds: number): Promise<void>;
  /** Seconds since some fixed point; durations only. */
  now(): number;
  /** Wall-clock time (ages of S3 objects). */
  clock(): Date;
}

/** One small, ordered unit of a promotion or fail-back. */
export interface Step {
  readonly name: string;
  /** What the step checks before it reports done, in one line (journal and runbook). */
  readonly verifies: string;
  run(ctx: StepContext): Promise<void>;
}

/** A step that cannot go on; the runner adds the step name and what is half-done. */
export class StepError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StepError';
  }
}
