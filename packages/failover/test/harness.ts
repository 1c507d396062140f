import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';

export interface Response {
  readonly stdout?: unknown;
  readonly stderr?: string;
  readonly code?: number;
}

export interface S3Object {
  readonly Key: string;
  /** ISO 8601, as S3 reports it. */
  readonly LastModified: string;
  /** Fake only, never listed: the LSN a WAL object's archived content ends at (default: its segment's end). */
  readonly EndLsn?: string;
}

export interface Rule {
  readonly tool: 'aws' | 'kubectl';
  /** Regex over the space-joined argv. */
  readonly match: string;
  readonly responses: readonly Response[];
  /** `s3api list-objects-v2` answered from these buckets' objects with ListObjectsV2's semantics (fake-cli.mjs). */
  readonly s3?: Readonly<Record<string, readonly S3Object[]>>;
  /** S3 replication rules between those buckets (fake-cli.mjs objectStore()). */
  readonly s3Replication?: readonly { readonly from: string; readonly to: string; readonly lagSeconds?: number }[];
  /** SSM parameters by name (null: absent), kept across calls (fake-cli.mjs `ssm`). */
  readonly ssm?: Readonly<Record<string, string | null>>;
  /** A CloudNativePG Cluster the fake operator keeps (fake-cli.mjs `cnpg`). */
  /** CloudWatch alarms by region, ActionsEnabled kept across calls (fake-cli.mjs `cloudwatch`). */
  readonly cloudwatch?: Readonly<Record<string, Readonly<Record<string, { readonly ActionsEnabled: boolean }>>>>;
  readonly cnpg?: CnpgModel;
}

/** fake-cli.mjs `cnpg`: one Cluster and its operator (distributed topology semantics documented there). */
export interface CnpgModel {
  readonly cluster: unknown;
  /** The kubeconfig context (= the external cluster name others use for it); keys its state. */
  readonly name?: string;
  readonly replayLsn?: string;
  readonly timeline?: number;
  readonly settlePolls?: number;
  readonly recoveryLagPolls?: number;
  /** As a primary: the last LSN written (the REDO of its shutdown checkpoint on demotion). */
  readonly writeLsn?: string;
  /** Where a newly applied Cluster starts replaying (its source's base backup). */
  readonly bootstrapLsn?: string;
  /** Bytes a replica replays per read. @default one segment (16 MiB) */
  readonly replayPerPoll?: number;
  /** Reads after a demotion before status.demotionToken appears. @default 2 */
  readonly demotionPolls?: number;
  /** false: the shutdown checkpoint is never archived, so no token. */
  readonly demotionArchives?: boolean;
  readonly systemId?: string;
  /** Secrets in the database's namespace: name → password (the app owner's credentials). @default none */
  readonly secrets?: Readonly<Record<string, string>>;
  /** The app owner role's password in the database (replayed by replicas). */
  readonly rolePassword?: string;
}

/** A modelled Cluster's state after the run (fake-cli.mjs). */
export interface CnpgState {
  readonly cluster: {
    readonly spec?: {
      readonly replica?: Readonly<Record<string, string | boolean>>;
      readonly externalClusters?: readonly { readonly name: string; readonly barmanObjectStore?: { readonly serverName?: string; readonly destinationPath?: string } }[];
      readonly backup?: { readonly barmanObjectStore?: { readonly serverName?: string } };
    };
    readonly status?: { readonly demotionToken?: string; readonly lastPromotionToken?: string; readonly timelineID?: number };
  } | null;
  /** Where it was promoted (hex LSN), and what its source had archived beyond that. */
  readonly promotedAt?: string;
  readonly lostBytes?: number;
  readonly secrets?: Readonly<Record<string, string>>;
  readonly rolePassword?: string;
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
  /** The same calls as argv (tool first), for models that apply them. */
  readonly argv: string[][];
  readonly outDir: string;
  /** The run's copy of platform-config's database-archives.ts. */
  readonly archivesFile: string;
  /** The run's copy of platform-config's failover-state.json. */
  readonly stateFile: string;
  /** Every ListObjectsV2 listing the fake served: prefix, StartAfter and entries per page. */
  readonly s3Pages: { readonly bucket: string; readonly prefix: string; readonly startAfter?: string; readonly pages: number[] }[];
  /** The modelled CloudNativePG Clusters after the run, by model name. */
  readonly cnpg: Readonly<Record<string, CnpgState>>;
  /** The objects each bucket itself holds after the run (what was written there, not what replication shows). */
  readonly s3: Readonly<Record<string, readonly S3Object[]>>;
}

/** Runs the real CLI (tsx) with recording fakes of aws and kubectl first on PATH. */
export async function runWithFakes(argv: readonly string[], rules: readonly Rule[], clustersDir = GENERATED_CLUSTERS): Promise<FakeRun> {
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
  const s3Log = join(dir, 's3.jsonl');
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, FAKE_LOG: log, FAKE_RULES: rulesFile, FAKE_STATE: join(dir, 'state.json'), FAKE_S3_LOG: s3Log };
  // A copy of the platform-config module fail-back rewrites: the run never edits the repository.
  const archivesFile = join(dir, 'database-archives.ts');
  copyFileSync(resolve(REPO_ROOT, 'packages/platform-config/src/database-archives.ts'), archivesFile);
  const stateFile = join(dir, 'failover-state.json');
  copyFileSync(resolve(REPO_ROOT, 'packages/platform-config/src/failover-state.json'), stateFile);
  const args = ['--import', 'tsx', CLI, ...argv, '--out-dir', outDir, '--clusters-dir', clustersDir, '--archives-file', archivesFile, '--state-file', stateFile, ...(argv.includes('--run-id') ? [] : ['--run-id', 'r1'])];
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (c) => done({ code: c ?? -1, stdout, stderr }));
  });
  const argvs = existsSync(log)
    ? readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const { tool, args: a } = JSON.parse(l) as { tool: string; args: string[] };
          return [tool, ...a];
        })
    : [];
  const s3Pages = existsSync(s3Log) ? readFileSync(s3Log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as FakeRun['s3Pages'][number]) : [];
  const fakeState = existsSync(env.FAKE_STATE) ? (JSON.parse(readFileSync(env.FAKE_STATE, 'utf8')) as Record<string, unknown>) : {};
  const cnpg = Object.fromEntries(Object.entries(fakeState).filter(([k]) => k.startsWith('cnpg:')).map(([k, v]) => [k.slice('cnpg:'.length), v as CnpgState]));
  const s3 = (fakeState.s3 ?? {}) as Record<string, S3Object[]>;
  return { code, stdout, stderr, calls: argvs.map((a) => a.join(' ')), argv: argvs, outDir, archivesFile, stateFile, s3Pages, cnpg, s3 };
}

/**
 * The generated clusters/ with dr's database as an ordinary (initdb) cluster instead of Git's
 * replica cluster: a standby whose promotion must restore from the archive.
 */
export function clustersWithInitdbStandby(): string {
  const dir = mkdtempSync(join(tmpdir(), 'failover-clusters-'));
  cpSync(GENERATED_CLUSTERS, dir, { recursive: true });
  const file = join(dir, 'dr', 'apps', 'postgres.yaml');
  const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJSON() as { kind?: string; spec?: Record<string, unknown> });
  for (const doc of docs.filter((d) => d?.kind === 'Cluster')) {
    delete doc.spec!.replica;
    delete doc.spec!.externalClusters;
    doc.spec!.bootstrap = { initdb: { database: 'app', owner: 'app' } };
  }
  writeFileSync(file, docs.map((d) => `---\n${stringify(d)}`).join(''));
  return dir;
}

export interface FakeIngress {
  readonly endpoint: string;
  /** Host header of every request. */
  readonly hosts: string[];
  /** Orders the fake orders API stored. */
  readonly orders: string[];
  readonly server: Server;
}

/**
 * A 127.0.0.1 server standing in for the ingress NLB: `status` for every path, except the orders
 * API (ORDERS_API.path) which behaves like PostgREST over a database: POST stores the item and
 * answers 201, GET `?item=eq.<x>` answers the matching rows; `ordersStatus` makes both fail.
 */
export async function startIngress(status = 200, ordersStatus?: number): Promise<FakeIngress> {
  const hosts: string[] = [];
  const orders: string[] = [];
  const server = createServer((req, res) => {
    hosts.push(req.headers.host ?? '');
    const url = new URL(req.url ?? '/', 'http://ingress');
    if (url.pathname !== '/orders') return void res.writeHead(status).end('ok');
    if (ordersStatus) return void res.writeHead(ordersStatus).end('{"message":"database unavailable"}');
    if (req.method === 'POST') {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        orders.push((JSON.parse(body) as { item: string }).item);
        res.writeHead(201).end();
      });
      return;
    }
    const wanted = url.searchParams.get('item')?.replace(/^eq\./, '');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(orders.filter((o) => o === wanted).map((item, id) => ({ id, item }))));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { endpoint: `127.0.0.1:${(server.address() as AddressInfo).port}`, hosts, orders, server };
}
