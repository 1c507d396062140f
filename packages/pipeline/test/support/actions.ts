import type { GitHubClient } from '../../src/io/github';
import { MissingContextError, type GitHubActions } from '../../src/io/github-actions';

/** A GitHubActions that records summaries and outputs; `github` only when a client is given. */
export function recordingActions(options: { github?: GitHubClient; pullRequest?: { number?: number; headSha?: string }; runUrl?: string; providerMirror?: string | null; accountId?: string } = {}): GitHubActions & {
  readonly summaries: string[];
  readonly outputs: Record<string, string>;
} {
  const summaries: string[] = [];
  const outputs: Record<string, string> = {};
  return {
    summaries,
    outputs,
    summary: (markdown) => void summaries.push(markdown),
    output: (name, value) => void (outputs[name] = value),
    canCallGitHub: options.github !== undefined,
    github: () => {
      if (!options.github) throw new MissingContextError('GITHUB_TOKEN and GITHUB_REPOSITORY must be set to talk to GitHub');
      return options.github;
    },
    pullRequest: () => options.pullRequest,
    runUrl: options.runUrl,
    providerMirror: options.providerMirror === undefined ? '/opt/tf-plugins' : options.providerMirror,
    accountId: options.accountId,
  };
}
