import type { Platform } from '@platform/platform-config';
import type { GitHubActions } from '../io/github-actions';
import type { PipelinePaths } from '../io/paths';

/** What every command runs with; tests build their own. */
export interface CommandIo {
  readonly platform: Platform;
  readonly paths: PipelinePaths;
  readonly actions: GitHubActions;
  /** Progress for the job log (stdout, `pipeline: ` prefix). */
  readonly log: (line: string) => void;
}

/** One `pipeline <name>` command: `parse` turns argv into options (UsageError on bad input), `run` does it. */
export interface Command<Options> {
  readonly description: string;
  parse(args: readonly string[]): Options;
  run(options: Options, io: CommandIo): Promise<number>;
}

/** Bad usage: exit 2. */
export class UsageError extends Error {}
