import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface Response {
  readonly stdout?: unknown;
  readonly stderr?: string;
  readonly code?: number;
}

export interface Rule {
  readonly tool: 'aws' | 'kubectl';
  /** Regex over the space-joined argv. */
  readonly match: string;
  readonly responses: readonly Response[];
}

export const REPO_ROOT = resolve(__dirname, '../../..');
const CLI = resolve(__dirname, '../src/cli.ts');
/** The generated manifests (apps/gitops), as the script reads them in a real run: no hand copy to drift. */
export const GENERATED_CLUSTERS = resolve(REPO_ROOT, 'clusters');

export interface FakeRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Every fake call as a command line, in order. */
  readonly calls: string[];
  readonly outDir: string;
}

/** Runs the real CLI (tsx) with recording fakes of aws and kubectl first on PATH. */
export async function runWithFakes(argv: readonly string[], rules: readonly Rule[]): Promise<FakeRun> {
  const dir = mkdtempSync(join(tmpdir(), 'failover-test-'));
  const bin = join(dir, 'bin');
  const fake = resolve(__dirname, 'fake-cli.mjs');
  chmodSync(fake, 0o755);
  mkdirSync(bin);
  for (const tool of ['aws', 'kubectl']) symlinkSync(fake, join(bin, tool));
  const rulesFile = join(dir, 'rules.json');
  writeFileSync(rulesFile, JSON.stringify(rules));
  const log = join(dir, 'calls.jsonl');
  const outDir = join(dir, 'out');
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, FAKE_LOG: log, FAKE_RULES: rulesFile, FAKE_STATE: join(dir, 'state.json') };
  const args = ['--import', 'tsx', CLI, ...argv, '--out-dir', outDir, '--clusters-dir', GENERATED_CLUSTERS, '--run-id', 'r1'];
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (c) => done({ code: c ?? -1, stdout, stderr }));
  });
  const calls = existsSync(log)
    ? readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const { tool, args: a } = JSON.parse(l) as { tool: string; args: string[] };
          return [tool, ...a].join(' ');
        })
    : [];
  return { code, stdout, stderr, calls, outDir };
}

/** A 127.0.0.1 server standing in for the ingress NLB; counts requests and their Host. */
export async function startIngress(status = 200): Promise<{ endpoint: string; hosts: string[]; server: Server }> {
  const hosts: string[] = [];
  const server = createServer((req, res) => {
    hosts.push(req.headers.host ?? '');
    res.writeHead(status).end('ok');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { endpoint: `127.0.0.1:${(server.address() as AddressInfo).port}`, hosts, server };
}
