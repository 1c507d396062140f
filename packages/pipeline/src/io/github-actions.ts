import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { GitHubClient } from './github';
import { PROVIDER_MIRROR } from './terraform';

/**
 * What a command may know of the GitHub Actions run it is in: the job summary, step
 * outputs, the REST client, the triggering event and the run's link. Commands get it
 * injected (tests pass their own); only `gitHubActionsFromEnv` reads the environment.
 */
export interface GitHubActions {
  /** Appends Markdown to the job summary (nothing outside Actions). */
  summary(markdown: string): void;
  /** Sets a step output (nothing outside Actions). */
  output(name: string, value: string): void;
  /** True when a token and repository are set: the REST API can be asked. */
  readonly canCallGitHub: boolean;
  /** The REST client; throws MissingContextError without a token and repository. */
  github(): GitHubClient;
  /** The pull request of a pull_request event, else undefined. */
  pullRequest(): { readonly number?: number; readonly headSha?: string } | undefined;
  /** `<server>/<repo>/actions/runs/<id>`, undefined outside Actions. */
  readonly runUrl: string | undefined;
  /** Filesystem mirror of the Terraform providers, or null to download them (fork jobs). */
  readonly providerMirror: string | null;
  /** The AWS account id (the `AWS_ACCOUNT_ID` secret of the step), if set. */
  readonly accountId: string | undefined;
}

/** Something the command needs from the run is not there: a usage error (exit 2). */
export class MissingContextError extends Error {}

/**
 * The real run, from its documented environment variables (GITHUB_STEP_SUMMARY, GITHUB_OUTPUT,
 * GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_EVENT_PATH, GITHUB_SERVER_URL, GITHUB_RUN_ID).
 * PIPELINE_PROVIDER_MIRROR: a mirror path, or `none` to download providers.
 */
export function gitHubActionsFromEnv(env: NodeJS.ProcessEnv = process.env): GitHubActions {
  const { GITHUB_TOKEN: token, GITHUB_REPOSITORY: repository, GITHUB_SERVER_URL: server, GITHUB_RUN_ID: run } = env;
  const mirror = env.PIPELINE_PROVIDER_MIRROR;
  return {
    summary: (markdown) => {
      if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, `${markdown}\n`);
    },
    output: (name, value) => {
      if (env.GITHUB_OUTPUT) appendFileSync(env.GITHUB_OUTPUT, `${name}=${value}\n`);
    },
    canCallGitHub: Boolean(token && repository),
    github: () => {
      if (!token || !repository) throw new MissingContextError('GITHUB_TOKEN and GITHUB_REPOSITORY must be set to talk to GitHub');
      return new GitHubClient({ token, repository, baseUrl: env.GITHUB_API_URL });
    },
    pullRequest: () => {
      const path = env.GITHUB_EVENT_PATH;
      const event = path && existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as { pull_request?: { number?: number; head?: { sha?: string } } }) : {};
      return event.pull_request ? { number: event.pull_request.number, headSha: event.pull_request.head?.sha } : undefined;
    },
    runUrl: server && repository && run ? `${server}/${repository}/actions/runs/${run}` : undefined,
    providerMirror: mirror === 'none' ? null : (mirror ?? PROVIDER_MIRROR),
    accountId: env.AWS_ACCOUNT_ID,
  };
}
