import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exec } from '../../src/private/exec';

/**
 * A GitHub REST API stand-in on 127.0.0.1 for the endpoints the pipeline calls, keeping
 * issues and comments in memory. It pages lists two items at a time (with a Link header)
 * so pagination is exercised, and records every request.
 */
export interface FakeComment {
  id: number;
  body: string;
  user: { login: string };
}
export interface FakeIssue {
  number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  state_reason?: string | null;
  labels: { name: string }[];
  pull_request?: object;
}

export interface FakePull {
  number: number;
  node_id: string;
  html_url: string;
  title: string;
  body: string;
  state: 'open' | 'closed';
  head: { ref: string };
  base: { ref: string };
  autoMerge: { mergeMethod: string } | null;
}

export interface FakeGitHub {
  readonly url: string;
  readonly requests: { method: string; path: string; body: unknown; auth: string | undefined }[];
  readonly comments: Map<number, FakeComment[]>;
  readonly issues: FakeIssue[];
  readonly commitPulls: Map<string, { number: number; labels: { name: string }[]; merged_at: string }[]>;
  readonly pulls: FakePull[];
  close(): Promise<void>;
}

const PAGE = 2;

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

/**
 * With `git`, the git endpoints (`git/ref`, `git/tags`, `compare`) answer from that real
 * repository, as GitHub would from the pushed history: refs/tags, tag objects, and
 * `base...head` by merge base (status) and `rev-list` (commits, oldest first, paged).
 */
export interface FakeGitHubOptions {
  readonly git?: string;
  /** The repository setting "Allow auto-merge" (off by default, as on GitHub). @default false */
  readonly allowAutoMerge?: boolean;
}

function gitOut(repo: string, ...args: string[]): string | undefined {
  const r = exec('git', args, { cwd: repo });
  return r.code === 0 ? r.stdout.trim() : undefined;
}

export async function startFakeGitHub(repository = 'hakube-platform/ha-kube-platform', options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const requests: FakeGitHub['requests'] = [];
  const comments = new Map<number, FakeComment[]>();
  const issues: FakeIssue[] = [];
  const commitPulls: FakeGitHub['commitPulls'] = new Map();
  const pulls: FakePull[] = [];
  let nextId = 1000;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const body = await readBody(req);
      requests.push({ method: req.method ?? '', path: url.pathname + url.search, body, auth: req.headers.authorization });
      const send = (status: number, data: unknown, link?: string) => {
        res.writeHead(status, { 'content-type': 'application/json', ...(link ? { link } : {}) });
        res.end(JSON.stringify(data));
      };
      const paged = <T>(items: T[]) => {
        const page = Number(url.searchParams.get('page') ?? '1');
        const next = new URL(url);
        next.searchParams.set('page', String(page + 1));
        const more = page * PAGE < items.length;
        send(200, items.slice((page - 1) * PAGE, page * PAGE), more ? `<http://127.0.0.1:${(server.address() as AddressInfo).port}${next.pathname}${next.search}>; rel="next"` : undefined);
      };
      if (url.pathname === '/graphql' && req.method === 'POST') {
        if (!req.headers.authorization?.startsWith('Bearer ')) return send(401, { message: 'Requires authentication' });
        // GraphQL answers 200 and reports failures in `errors`.
        const b = body as { query: string; variables: { id: string; method?: string } };
        if (!/enablePullRequestAutoMerge/.test(b.query)) return send(200, { errors: [{ message: 'unsupported query in the fake' }] });
        const pull = pulls.find((p) => p.node_id === b.variables.id && p.state === 'open');
        if (!pull) return send(200, { errors: [{ type: 'NOT_FOUND', message: `Could not resolve to a node with the global id of '${b.variables.id}'` }] });
        if (!options.allowAutoMerge) return send(200, { errors: [{ message: 'Pull request Auto merge is not allowed for this repository' }] });
        pull.autoMerge = { mergeMethod: b.variables.method ?? 'MERGE' };
        return send(200, { data: { enablePullRequestAutoMerge: { pullRequest: { number: pull.number } } } });
      }
      const prefix = `/repos/${repository}`;
      const path = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : undefined;
      if (!req.headers.authorization?.startsWith('Bearer ')) return send(401, { message: 'Requires authentication' });
      if (path === undefined) return send(404, { message: 'Not Found' });
      let m: RegExpMatchArray | null;
      if ((m = path.match(/^\/issues\/(\d+)\/comments$/))) {
        const list = comments.get(Number(m[1])) ?? [];
        comments.set(Number(m[1]), list);
        if (req.method === 'GET') return paged(list);
        if (req.method === 'POST') {
          const created = { id: nextId++, body: (body as { body: string }).body, user: { login: 'github-actions[bot]' } };
          list.push(created);
          return send(201, created);
        }
      }
      if ((m = path.match(/^\/issues\/comments\/(\d+)$/)) && req.method === 'PATCH') {
        const found = [...comments.values()].flat().find((c) => c.id === Number(m?.[1]));
        if (!found) return send(404, { message: 'Not Found' });
        found.body = (body as { body: string }).body;
        return send(200, found);
      }
      if (path === '/issues' && req.method === 'GET') {
        const state = url.searchParams.get('state') ?? 'open';
        const labels = url.searchParams.get('labels')?.split(',') ?? [];
        return paged(issues.filter((i) => (state === 'all' || i.state === state) && labels.every((l) => i.labels.some((x) => x.name === l))));
      }
      if (path === '/issues' && req.method === 'POST') {
        const b = body as { title: string; body: string; labels: string[] };
        const created: FakeIssue = { number: issues.length + 1, title: b.title, body: b.body, state: 'open', labels: b.labels.map((name) => ({ name })) };
        issues.push(created);
        return send(201, created);
      }
      if ((m = path.match(/^\/issues\/(\d+)$/)) && req.method === 'PATCH') {
        const issue = issues.find((i) => i.number === Number(m?.[1]));
        if (!issue) return send(404, { message: 'Not Found' });
        Object.assign(issue, body);
        return send(200, issue);
      }
      if (path === '/pulls' && req.method === 'GET') {
        const head = url.searchParams.get('head');
        const base = url.searchParams.get('base');
        const state = url.searchParams.get('state') ?? 'open';
        const owner = repository.split('/')[0];
        return paged(pulls.filter((p) => (state === 'all' || p.state === state) && (!head || head === `${owner}:${p.head.ref}`) && (!base || base === p.base.ref)));
      }
      if (path === '/pulls' && req.method === 'POST') {
        const b = body as { title: string; head: string; base: string; body: string };
        // GitHub: 422 when the head branch does not exist (it must be pushed first) or already has an open pull request into base.
        if (options.git && !gitOut(options.git, 'rev-parse', '--verify', '--quiet', `refs/heads/${b.head}`)) {
          return send(422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', field: 'head', code: 'invalid' }] });
        }
        if (pulls.some((p) => p.state === 'open' && p.head.ref === b.head && p.base.ref === b.base)) {
          return send(422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${repository.split('/')[0]}:${b.head}.` }] });
        }
        const number = 100 + pulls.length + issues.length;
        const created: FakePull = { number, node_id: `PR_kw${number}`, html_url: `https://github.com/${repository}/pull/${number}`, title: b.title, body: b.body, state: 'open', head: { ref: b.head }, base: { ref: b.base }, autoMerge: null };
        pulls.push(created);
        return send(201, created);
      }
      if ((m = path.match(/^\/pulls\/(\d+)$/)) && req.method === 'PATCH') {
        const pull = pulls.find((p) => p.number === Number(m?.[1]));
        if (!pull) return send(404, { message: 'Not Found' });
        Object.assign(pull, body);
        return send(200, pull);
      }
      if ((m = path.match(/^\/commits\/([0-9a-f]+)\/pulls$/)) && req.method === 'GET') return send(200, commitPulls.get(m[1]) ?? []);
      const repo = options.git;
      if (repo && (m = path.match(/^\/git\/ref\/(.+)$/)) && req.method === 'GET') {
        const ref = `refs/${decodeURIComponent(m[1])}`;
        const sha = gitOut(repo, 'rev-parse', '--verify', '--quiet', ref);
        if (!sha) return send(404, { message: 'Not Found' });
        return send(200, { ref, object: { sha, type: gitOut(repo, 'cat-file', '-t', sha) } });
      }
      if (repo && (m = path.match(/^\/git\/tags\/([0-9a-f]{40})$/)) && req.method === 'GET') {
        const target = gitOut(repo, 'rev-parse', `${m[1]}^{}`);
        if (!target) return send(404, { message: 'Not Found' });
        return send(200, { sha: m[1], object: { sha: target, type: gitOut(repo, 'cat-file', '-t', target) } });
      }
      if (repo && (m = path.match(/^\/compare\/([0-9a-f]{40})\.\.\.([0-9a-f]{40})$/)) && req.method === 'GET') {
        const [base, head] = [m[1], m[2]];
        if (!gitOut(repo, 'rev-parse', '--verify', '--quiet', `${head}^{commit}`) || !gitOut(repo, 'rev-parse', '--verify', '--quiet', `${base}^{commit}`)) {
          return send(404, { message: 'Not Found' });
        }
        const ancestor = (a: string, b: string) => exec('git', ['merge-base', '--is-ancestor', a, b], { cwd: repo }).code === 0;
        const status = base === head ? 'identical' : ancestor(base, head) ? 'ahead' : ancestor(head, base) ? 'behind' : 'diverged';
        const commits = (gitOut(repo, 'rev-list', '--reverse', `${base}..${head}`) ?? '').split('\n').filter(Boolean).map((sha) => ({ sha }));
        const page = Number(url.searchParams.get('page') ?? '1');
        const next = new URL(url);
        next.searchParams.set('page', String(page + 1));
        const more = page * PAGE < commits.length;
        res.writeHead(200, { 'content-type': 'application/json', ...(more ? { link: `<http://127.0.0.1:${(server.address() as AddressInfo).port}${next.pathname}${next.search}>; rel="next"` } : {}) });
        return res.end(JSON.stringify({ status, total_commits: commits.length, commits: commits.slice((page - 1) * PAGE, page * PAGE) }));
      }
      send(404, { message: 'Not Found' });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    comments,
    issues,
    commitPulls,
    pulls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
