import { resolve } from 'node:path';
import { defaultPlatform, type Platform } from '@platform/platform-config';
import { gitHubActionsFromEnv, MissingContextError, type GitHubActions } from '../io/github-actions';
import { pipelinePaths } from '../io/paths';
import { UsageError, type Command } from './command';
import { amiLockCommand } from './commands/ami-lock';
import { apply } from './commands/apply';
import { applyApprovedCommand } from './commands/apply-approved';
import { comments } from './commands/comments';
import { commitManifests } from './commands/commit-manifests';
import { deployRefs } from './commands/deploy-refs';
import { drift } from './commands/drift';
import { gameDayCommand } from './commands/game-day';
import { identityStages } from './commands/identity-stages';
import { imageLockCommand } from './commands/image-lock';
import { scaleDayCommand, scaleDayReportCommand } from './commands/scale-day';
import { markApplied } from './commands/mark-applied';
import { migrateStateCommand } from './commands/migrate-state';
import { planApprovedCommand } from './commands/plan-approved';
import { pr } from './commands/pr';
import { prGate } from './commands/pr-gate';
import { promoteReleaseCommand } from './commands/promote-release';
import { recordFailoverCommand } from './commands/record-failover';
import { releaseCommand } from './commands/release';
import { reportApply } from './commands/report-apply';
import { roleVariablesCommand } from './commands/role-variables';
import { rollControlPlaneCommand } from './commands/roll-control-plane';
import { stacks } from './commands/stacks';
import { unaffectedComments } from './commands/unaffected-comments';

/**
 * `npm run pipeline:<command>`: what each workflow step runs, runnable locally too.
 * Exit codes: 0 ok, 1 the check failed (gate closed, drift found, push failed), 2 bad usage.
 */

const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..');

export const COMMANDS: Readonly<Record<string, Command<unknown>>> = {
  pr,
  'pr-gate': prGate,
  'identity-stages': identityStages,
  stacks,
  apply,
  'plan-approved': planApprovedCommand(),
  'apply-approved': applyApprovedCommand(),
  'report-apply': reportApply,
  'unaffected-comments': unaffectedComments,
  'mark-applied': markApplied,
  'deploy-refs': deployRefs,
  'record-failover': recordFailoverCommand(),
  'commit-manifests': commitManifests,
  drift,
  'game-day': gameDayCommand(),
  'scale-day': scaleDayCommand(),
  'scale-day-report': scaleDayReportCommand(),
  'role-variables': roleVariablesCommand,
  'migrate-state': migrateStateCommand(),
  comments,
  'ami-lock': amiLockCommand(),
  'image-lock': imageLockCommand(),
  'roll-control-plane': rollControlPlaneCommand(),
  release: releaseCommand(),
  'promote-release': promoteReleaseCommand(),
} as Record<string, Command<unknown>>;

export interface MainContext {
  /** @default the repository this file is in (or PIPELINE_REPO_ROOT) */
  readonly repoRoot?: string;
  /** @default the shipped platform; tests pass another (e.g. one that is not an example) */
  readonly platform?: Platform;
  /** @default from the process environment */
  readonly actions?: GitHubActions;
  /** @default the registered commands; tests swap one for one with fakes injected */
  readonly commands?: Readonly<Record<string, Command<unknown>>>;
}

export async function main(argv: readonly string[], repoRoot?: string, platform?: Platform, context: MainContext = {}): Promise<number> {
  const [name, ...rest] = argv;
  const commands = context.commands ?? COMMANDS;
  const command = name ? commands[name] : undefined;
  if (!command) {
    console.error(`usage: pipeline <${Object.keys(commands).join('|')}> [options]`);
    return 2;
  }
  const root = repoRoot ?? context.repoRoot ?? process.env.PIPELINE_REPO_ROOT ?? REPO_ROOT;
  try {
    const options = command.parse(rest);
    return await command.run(options, {
      platform: platform ?? context.platform ?? defaultPlatform(),
      paths: pipelinePaths(root),
      actions: context.actions ?? gitHubActionsFromEnv(process.env),
      log: (line) => console.log(`pipeline: ${line}`),
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`pipeline ${name}: ${message}`);
    return error instanceof UsageError || error instanceof MissingContextError ? 2 : 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
