/**
 * The few GitHub REST calls the workflows make, on `fetch`, so tests can point them at a
 * server on 127.0.0.1. Shapes follow the REST API version 2022-11-28.
 */

export interface GitHubClientOptions {
  readonly token: string;
  /** @default process.env.GITHUB_API_URL ?? 'https://api.github.com' */
  readonly baseUrl?: string;
  /** "owner/name" */
  readonly repository: string;
  /** @default process.env.GITHUB_GRAPHQL_URL ?? `${baseUrl}/graphql` */
  readonly graphqlUrl?: string;
}

export interface IssueComment {
  readonly id: number;
  readonly body: string;
  readonly user: { readonly login: string } | null;
}

export interface Issue {
  readonly number: number;
  readonly title: string;
  readonly body: string | null;
  readonly state: 'open' | 'closed';
  readonly labels: readonly ({ readonly name: string } | string)[];
  readonly pull_request?: unknown;
}

export interface PullRequest {
  readonly number: number;
  readonly labels: readonly { readonly name: string }[];
  readonly merged_at: string | null;
}

/** An open pull request as `POST /pulls` and `GET /pulls` answer it (the fields the release flow uses). */
export interface OpenPullRequest {
  readonly number: number;
  /** GraphQL id (auto-merge is a GraphQL-only mutation). */
  readonly node_id: string;
  readonly html_url: string;
  readonly title: string;
  readonly body: string | null;
  readonly head: { readonly ref: string };
  readonly base: { readonly ref: string };
}

/** A git reference (`GET /git/ref/{ref}`): a lightweight tag points at a commit, an annotated one at a tag object. */
export interface GitRef {
  readonly ref: string;
  readonly object: { readonly sha: string; readonly type: 'commit' | 'tag' | string };
}

export interface Comparison {
  /** How `head` relates to `base`: `ahead` means head includes base and more. */
  readonly status: 'ahead' | 'behind' | 'identical' | 'diverged';
  /** Commits reachable from head and not from base, oldest first (every page). */
  readonly commits: readonly { readonly sha: string }[];
}

export class GitHubError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    body: string,
  ) {
    super(`GitHub API ${method} ${path} answered ${status}: ${body.slice(0, 500)}`);
  }
}

function nextLink(link: string | null): string | undefined {
  return link?.split(',').find((part) => /rel="next"/.test(part))?.match(/<([^>]+)>/)?.[1];
}

export class GitHubClient {
  private readonly baseUrl: string;
  constructor(private readonly options: GitHubClientOptions) {
    if (!/^[^/\s]+\/[^/\s]+$/.test(options.repository)) {
      throw new Error(`repository ${JSON.stringify(options.repository)} is not of the form owner/name`);
    }
    this.baseUrl = (options.baseUrl ?? process.env.GITHUB_API_URL ?? 'https://api.github.com').replace(/\/$/, '');
  }

  private async request<T>(method: string, pathOrUrl: string, body?: unknown): Promise<{ data: T; next: string | undefined }> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.baseUrl}${pathOrUrl}`;
    const send = () =>
      fetch(url, {
        method,
        headers: {
          accept: 'application/vnd.github+json',
          authorization: `Bearer ${this.options.token}`,
          'x-github-api-version': '2022-11-28',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    let response: Response;
    try {
      response = await send();
    } catch (error) {
      // A kept-alive connection the server closed meanwhile fails before any byte is sent
      // ("fetch failed"); a GET is safe to send again, once.
      if (method !== 'GET' || !(error instanceof TypeError)) throw error;
      response = await send();
    }
    const text = await response.text();
    if (!response.ok) throw new GitHubError(response.status, method, pathOrUrl, text);
    return { data: (text ? JSON.parse(text) : undefined) as T, next: nextLink(response.headers.get('link')) };
  }

  private async paginate<T>(path: string): Promise<T[]> {
    const all: T[] = [];
    let url: string | undefined = `${path}${path.includes('?') ? '&' : '?'}per_page=100`;
    while (url) {
      const page: { data: T[]; next: string | undefined } = await this.request<T[]>('GET', url);
      all.push(...page.data);
      url = page.next;
    }
    return all;
  }

  private get repo(): string {
    return `/repos/${this.options.repository}`;
  }

  listIssueComments(issue: number): Promise<IssueComment[]> {
    return this.paginate<IssueComment>(`${this.repo}/issues/${issue}/comments`);
  }

  async createIssueComment(issue: number, body: string): Promise<IssueComment> {
    return (await this.request<IssueComment>('POST', `${this.repo}/issues/${issue}/comments`, { body })).data;
  }

  async updateIssueComment(id: number, body: string): Promise<IssueComment> {
    return (await this.request<IssueComment>('PATCH', `${this.repo}/issues/comments/${id}`, { body })).data;
  }

  /** Open and closed issues (not pull requests) carrying `label`. */
  async listIssuesWithLabel(label: string, state: 'open' | 'closed' | 'all' = 'all'): Promise<Issue[]> {
    const issues = await this.paginate<Issue>(`${this.repo}/issues?state=${state}&labels=${encodeURIComponent(label)}`);
    return issues.filter((i) => i.pull_request === undefined);
  }

  async createIssue(title: string, body: string, labels: readonly string[]): Promise<Issue> {
    return (await this.request<Issue>('POST', `${this.repo}/issues`, { title, body, labels })).data;
  }

  async updateIssue(issue: number, fields: { title?: string; body?: string; state?: 'open' | 'closed'; state_reason?: 'completed' | 'reopened' }): Promise<Issue> {
    return (await this.request<Issue>('PATCH', `${this.repo}/issues/${issue}`, fields)).data;
  }

  /** `ref` without `refs/`, e.g. `tags/applied/main`; undefined when the repository has no such ref. */
  async getRef(ref: string): Promise<GitRef | undefined> {
    try {
      return (await this.request<GitRef>('GET', `${this.repo}/git/ref/${ref.split('/').map(encodeURIComponent).join('/')}`)).data;
    } catch (error) {
      if (error instanceof GitHubError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** The object an annotated tag points at. */
  async getTag(sha: string): Promise<{ readonly object: { readonly sha: string; readonly type: string } }> {
    return (await this.request<{ object: { sha: string; type: string } }>('GET', `${this.repo}/git/tags/${sha}`)).data;
  }

  /** `base...head`, with the commits of every page (the API pages them, 250 at most per page). */
  async compareCommits(base: string, head: string): Promise<Comparison> {
    let url: string | undefined = `${this.repo}/compare/${base}...${head}?per_page=100`;
    let status: Comparison['status'] | undefined;
    const commits: { sha: string }[] = [];
    while (url) {
      const page: { data: Comparison; next: string | undefined } = await this.request<Comparison>('GET', url);
      status ??= page.data.status;
      commits.push(...page.data.commits.map((c) => ({ sha: c.sha })));
      url = page.next;
    }
    return { status: status as Comparison['status'], commits };
  }

  /** Open pull requests from `branch` of this repository into `base`. */
  async openPullRequests(branch: string, base: string): Promise<OpenPullRequest[]> {
    const owner = this.options.repository.split('/')[0]!;
    return this.paginate<OpenPullRequest>(`${this.repo}/pulls?state=open&head=${encodeURIComponent(`${owner}:${branch}`)}&base=${encodeURIComponent(base)}`);
  }

  async createPullRequest(fields: { title: string; head: string; base: string; body: string }): Promise<OpenPullRequest> {
    return (await this.request<OpenPullRequest>('POST', `${this.repo}/pulls`, fields)).data;
  }

  async updatePullRequest(pull: number, fields: { title?: string; body?: string }): Promise<OpenPullRequest> {
    return (await this.request<OpenPullRequest>('PATCH', `${this.repo}/pulls/${pull}`, fields)).data;
  }

  /**
   * Merges the pull request by itself once its required checks pass (and reviews, if branch
   * protection asks). REST has no call for it: GraphQL `enablePullRequestAutoMerge`, which
   * answers 200 with `errors` when the repository does not allow auto-merge.
   */
  async enableAutoMerge(pullRequestNodeId: string, mergeMethod: 'MERGE' | 'SQUASH' | 'REBASE' = 'SQUASH'): Promise<void> {
    const url = this.options.graphqlUrl ?? process.env.GITHUB_GRAPHQL_URL ?? `${this.baseUrl}/graphql`;
    const query = 'mutation($id: ID!, $method: PullRequestMergeMethod) { enablePullRequestAutoMerge(input: {pullRequestId: $id, mergeMethod: $method}) { pullRequest { number } } }';
    const { data } = await this.request<{ errors?: { message: string }[] }>('POST', url, { query, variables: { id: pullRequestNodeId, method: mergeMethod } });
    if (data?.errors?.length) throw new Error(`GitHub GraphQL enablePullRequestAutoMerge: ${data.errors.map((e) => e.message).join('; ')}`);
  }

  /** Pull requests whose merge produced `sha` (push to main). */
  async pullRequestsOfCommit(sha: string): Promise<PullRequest[]> {
    return (await this.request<PullRequest[]>('GET', `${this.repo}/commits/${sha}/pulls`)).data;
  }
}
