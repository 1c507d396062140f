#!/usr/bin/env node
// Recording fake of `aws` / `kubectl`: appends its argv to $FAKE_LOG and answers from the
// first rule in $FAKE_RULES whose tool matches and whose regex matches the joined argv.
// A rule's responses are used in order; the last one repeats. No rule: exit 99.
// A rule with `s3` ({ bucket: [{ Key, LastModified }] }) answers `s3api list-objects-v2` as S3
// and the CLI do (see below); every simulated page is logged to $FAKE_S3_LOG.
// A rule with `cnpg` holds one CloudNativePG Cluster (see cnpg() below); one with `cloudwatch`
// holds alarms per region (see cloudwatch() below).
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

const tool = path.basename(process.argv[1]);
const args = process.argv.slice(2);
fs.appendFileSync(process.env.FAKE_LOG, `${JSON.stringify({ tool, args })}\n`);
const rules = JSON.parse(fs.readFileSync(process.env.FAKE_RULES, 'utf8'));
const joined = args.join(' ');
const index = rules.findIndex((r) => r.tool === tool && new RegExp(r.match).test(joined));
if (index < 0) {
  process.stderr.write(`fake ${tool}: no rule for: ${joined}\n`);
  process.exit(99);
}
if (rules[index].s3) {
  const flag = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const bucket = rules[index].s3[flag('--bucket')];
  if (!bucket) {
    process.stderr.write(`An error occurred (NoSuchBucket) when calling the ListObjectsV2 operation: The specified bucket does not exist\n`);
    process.exit(254);
  }
  // ListObjectsV2: keys in UTF-8 binary order; Prefix and StartAfter (strictly after) filter;
  // a Delimiter rolls keys up into CommonPrefixes (each counts once towards the page); at most
  // MaxKeys (1000, also the cap) entries per page. The CLI follows NextContinuationToken and
  // prints the pages merged; --max-items cuts the merged result.
  const prefix = flag('--prefix') ?? '';
  const startAfter = flag('--start-after');
  const delimiter = flag('--delimiter');
  const pageSize = Math.min(Number(flag('--page-size') ?? 1000), 1000);
  const bytes = (k) => Buffer.from(k, 'utf8');
  const keys = bucket
    .filter((o) => o.Key.startsWith(prefix) && (startAfter === undefined || Buffer.compare(bytes(o.Key), bytes(startAfter)) > 0))
    .sort((a, b) => Buffer.compare(bytes(a.Key), bytes(b.Key)));
  const entries = [];
  for (const o of keys) {
    const rest = o.Key.slice(prefix.length);
    const cut = delimiter ? rest.indexOf(delimiter) : -1;
    if (cut < 0) entries.push({ object: o });
    else {
      const common = prefix + rest.slice(0, cut + delimiter.length);
      if (entries.at(-1)?.prefix !== common) entries.push({ prefix: common });
    }
  }
  const pages = [];
  for (let i = 0; i < Math.max(entries.length, 1); i += pageSize) pages.push(entries.slice(i, i + pageSize));
  if (process.env.FAKE_S3_LOG) fs.appendFileSync(process.env.FAKE_S3_LOG, `${JSON.stringify({ bucket: flag('--bucket'), prefix, startAfter, pages: pages.map((p) => p.length) })}\n`);
  let merged = pages.flat();
  const maxItems = flag('--max-items');
  if (maxItems) merged = merged.slice(0, Number(maxItems));
  let contents = merged.filter((e) => e.object).map((e) => e.object);
  const commonPrefixes = merged.filter((e) => e.prefix).map((e) => ({ Prefix: e.prefix }));
  const query = flag('--query');
  if (query === 'Contents[].Key') process.stdout.write(JSON.stringify(contents.length > 0 ? contents.map((o) => o.Key) : null));
  else if (query === undefined) {
    const out = {
      ...(contents.length > 0 ? { Contents: contents.map((o) => ({ ...o, Size: 1024, StorageClass: 'STANDARD' })) } : {}),
      ...(commonPrefixes.length > 0 ? { CommonPrefixes: commonPrefixes } : {}),
    };
    process.stdout.write(JSON.stringify(out));
  } else {
    process.stderr.write(`fake aws: unsupported --query ${query}\n`);
    process.exit(98);
  }
  process.exit(0);
}
const statePath = process.env.FAKE_STATE;
const state = fs.existsSync(statePath) ? JSON.parse(fs.readFileSync(statePath, 'utf8')) : {};
if (rules[index].ssm) {
  ssm(rules[index].ssm, `ssm${index}`);
  fs.writeFileSync(statePath, JSON.stringify(state));
  process.exit(process.exitCode ?? 0);
}
if (rules[index].cloudwatch) {
  cloudwatch(rules[index].cloudwatch, `cloudwatch${index}`);
  fs.writeFileSync(statePath, JSON.stringify(state));
  process.exit(process.exitCode ?? 0);
}
if (rules[index].cnpg) {
  cnpg(rules[index].cnpg, `cnpg${index}`);
  fs.writeFileSync(statePath, JSON.stringify(state));
  process.exit(process.exitCode ?? 0);
}
const used = state[index] ?? 0;
state[index] = used + 1;
fs.writeFileSync(statePath, JSON.stringify(state));
const responses = rules[index].responses;
const response = responses[Math.min(used, responses.length - 1)];
const out = response.stdout === undefined ? '' : typeof response.stdout === 'string' ? response.stdout : JSON.stringify(response.stdout);
process.stdout.write(out);
if (response.stderr) process.stderr.write(response.stderr);
process.exit(response.code ?? 0);

// One CloudNativePG Cluster as the API server and the operator show it. A patch or an apply
// changes the spec at once; the status follows only over the next `settlePolls` reads
// (phase "Promoting to primary cluster" / "Setting up primary", then "Cluster in healthy
// state"), and the instance leaves (or enters) recovery `recoveryLagPolls` reads after that.
// `exec … psql -c <query>` answers pg_is_in_recovery() and the replay point as psql -At would.
//
// Distributed topology (CloudNativePG ≥ 1.24, docs "Replica clusters"), with `model.name` (the
// kubeconfig context) naming the cluster and the other modelled Cluster found by the external
// cluster `spec.replica.source` names:
// - a Cluster is a replica when `replica.enabled` says so, else when `replica.primary` ≠
//   `replica.self` (default: metadata.name) — CloudNativePG's IsReplica();
// - primary → replica (demotion): clean shutdown; the shutdown checkpoint (REDO = the last
//   written LSN, `writeLsn`) is archived and only then, `demotionPolls` reads later,
//   `status.demotionToken` appears (base64 JSON of pg_controldata's fields, as the operator
//   writes it); `demotionArchives: false` models an archive that never takes it: no token;
// - a replica replays `replayPerPoll` bytes per read of itself, never past what its source
//   archived (a demoted source: its shutdown checkpoint; a primary: its `writeLsn`);
// - replica → primary with `promotionToken`: the webhook rejects it next to `minApplyDelay`;
//   a token of another system or timeline never promotes; otherwise the designated primary
//   stays in recovery until it has replayed up to the token's REDO location, then promotes;
// - replica → primary without a token: promotes at once at whatever it replayed (the
//   data-loss path). Every promotion records `promotedAt` and `lostBytes` (what its source had
//   archived beyond it) in the fake's state, for the tests to judge.
function cnpg(model, key) {
  const settle = model.settlePolls ?? 2;
  const lag = model.recoveryLagPolls ?? 1;
  // Every named model exists from the first call on: a replica reads its source's state.
  for (const r of rules) if (r.cnpg?.name) state[`cnpg:${r.cnpg.name}`] ??= initialCnpg(r.cnpg);
  const st = (state[model.name ? `cnpg:${model.name}` : key] ??= initialCnpg(model));
  const name = st.cluster?.metadata?.name ?? 'orders';
  const replicaOf = (spec) => {
    const r = spec?.replica;
    if (!r) return false;
    if (r.enabled !== undefined) return r.enabled === true;
    return r.primary !== undefined && r.primary !== (r.self ?? name);
  };
  const replica = () => replicaOf(st.cluster?.spec);
  // A promotion ends recovery only `lag` reads after the phase turned healthy; a replica never
  // does; a promotion waiting for its token's LSN neither.
  const inRecovery = () => replica() || st.awaitingToken !== undefined || (st.polls !== null && st.polls <= settle + lag);
  const merge = (target, patch) => {
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete target[k];
      else if (typeof v === 'object' && !Array.isArray(v) && typeof target[k] === 'object' && target[k] !== null) merge(target[k], v);
      else target[k] = v;
    }
  };
  const source = () => {
    const ext = st.cluster?.spec?.replica?.source;
    return ext ? state[`cnpg:${ext}`] : undefined;
  };
  const promote = (at) => {
    st.promotedAt = hex(at);
    const src = source();
    st.lostBytes = src ? Math.max(0, src.archived - at) : 0;
    st.timeline = (st.cluster.status?.timelineID ?? model.timeline ?? 1) + 1;
    st.writeLsn = at;
    st.archived = at;
    st.polls = 0;
  };
  if (args.includes('exec')) {
    if (!st.cluster) return fail(`Error from server (NotFound): pods "${args[args.indexOf('exec') + 3]}" not found`);
    const query = args[args.length - 1];
    const rec = inRecovery() ? 't' : 'f';
    if (query === 'SELECT pg_current_wal_lsn()') process.stdout.write(`${hex(st.writeLsn)}\n`);
    else if (query === 'SELECT pg_last_wal_replay_lsn()') process.stdout.write(`${hex(st.replay)}\n`);
    else if (query.includes('pg_last_wal_replay_lsn')) process.stdout.write(`${rec}|${model.replayLsn ?? ''}|${model.timeline ?? 1}|16777216\n`);
    else process.stdout.write(`${rec}\n`);
    return;
  }
  if (args.includes('patch')) {
    const spec = JSON.parse(args[args.indexOf('-p') + 1]).spec ?? {};
    const next = structuredClone(st.cluster.spec);
    merge(next, spec);
    if (next.replica?.promotionToken && next.replica?.minApplyDelay) {
      return fail('Error from server (Forbidden): admission webhook "vcluster.cnpg.io" denied the request: spec.replica.minApplyDelay and spec.replica.promotionToken cannot be used together');
    }
    const wasReplica = replica();
    st.cluster.spec = next;
    if (!wasReplica && replica()) {
      // Demotion: clean shutdown, shutdown checkpoint archived, then the token.
      st.demoting = 0;
      st.archived = st.writeLsn;
    } else if (wasReplica && !replica()) {
      const token = next.replica?.promotionToken;
      if (token) st.awaitingToken = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
      else promote(st.replay);
    } else st.polls = 0;
    process.stdout.write(`cluster.postgresql.cnpg.io/${name} patched\n`);
    return;
  }
  if (args.includes('delete')) {
    if (!st.cluster && !args.includes('--ignore-not-found')) return fail(`Error from server (NotFound): clusters.postgresql.cnpg.io "${name}" not found`);
    st.cluster = null;
    process.stdout.write(`cluster.postgresql.cnpg.io "${name}" deleted\n`);
    return;
  }
  if (args.includes('apply')) {
    const doc = parseAllDocuments(fs.readFileSync(args[args.indexOf('-f') + 1], 'utf8')).map((d) => d.toJSON()).find((d) => d?.kind === 'Cluster');
    if (st.cluster) {
      // An apply to a running Cluster changes its spec (here: the one manager's fields, as
      // it applies them now; field ownership is judged by flux-ssa-model over the recorded
      // calls). CloudNativePG reads the bootstrap only at creation: nothing restarts.
      st.cluster = { ...st.cluster, metadata: { ...st.cluster.metadata, ...doc.metadata }, spec: doc.spec };
      process.stdout.write(`cluster.postgresql.cnpg.io/${name} serverside-applied\n`);
      return;
    }
    st.cluster = { ...doc, status: { phase: 'Setting up primary' } };
    st.polls = 0;
    // A new cluster bootstraps from its source's base backup: it replays from there.
    st.replay = lsn(model.bootstrapLsn ?? model.replayLsn ?? '0/0');
    delete st.awaitingToken;
    process.stdout.write(`cluster.postgresql.cnpg.io/${name} serverside-applied\n`);
    return;
  }
  if (!st.cluster) {
    if (args.includes('--ignore-not-found')) return;
    return fail(`Error from server (NotFound): clusters.postgresql.cnpg.io "${name}" not found`);
  }
  if (args.includes('name') && args[args.indexOf('name') - 1] === '-o') return void process.stdout.write(`cluster.postgresql.cnpg.io/${name}\n`);
  // Replay: a replica (or a promotion waiting for its token) follows what its source archived.
  const src = source();
  if ((replica() || st.awaitingToken) && src) st.replay = Math.min(src.archived, st.replay + (model.replayPerPoll ?? 0x1000000));
  if (st.awaitingToken) {
    const t = st.awaitingToken;
    // A replica replays its source's timeline.
    const timeline = src ? (src.timeline ?? src.cluster?.status?.timelineID ?? 1) : (st.cluster.status?.timelineID ?? model.timeline ?? 1);
    const matches = t.databaseSystemIdentifier === st.systemId && Number(t.latestCheckpointTimelineID) === timeline;
    if (matches && st.replay >= lsn(t.latestCheckpointREDOLocation)) {
      delete st.awaitingToken;
      st.cluster.status = { ...st.cluster.status, lastPromotionToken: st.cluster.spec.replica.promotionToken };
      promote(st.replay);
    }
  }
  if (st.demoting !== undefined && model.demotionArchives !== false && ++st.demoting > (model.demotionPolls ?? 2)) {
    const redo = st.writeLsn;
    const token = {
      latestCheckpointTimelineID: String(st.cluster.status?.timelineID ?? model.timeline ?? 1),
      redoWalFile: segmentOf(redo, st.cluster.status?.timelineID ?? model.timeline ?? 1),
      databaseSystemIdentifier: st.systemId,
      latestCheckpointREDOLocation: hex(redo),
      timeOfLatestCheckpoint: 'Thu 01 Jan 2026 12:30:00 PM UTC',
      operatorVersion: '1.27.0',
    };
    st.cluster.status = { ...st.cluster.status, demotionToken: Buffer.from(JSON.stringify(token)).toString('base64') };
    delete st.demoting;
  }
  if (st.polls !== null) {
    st.polls += 1;
    const settled = st.polls > settle;
    const pod = `${name}-1`;
    st.cluster.status = {
      ...st.cluster.status,
      phase: settled ? 'Cluster in healthy state' : replica() ? 'Setting up primary' : 'Promoting to primary cluster',
      ...(settled ? { currentPrimary: pod, targetPrimary: pod } : {}),
      ...(st.timeline ? { timelineID: st.timeline } : {}),
    };
  }
  process.stdout.write(JSON.stringify(st.cluster));
}

function initialCnpg(model) {
  // A Cluster found with a promotion token it has not used yet is still replaying up to it.
  const token = model.cluster?.spec?.replica?.promotionToken;
  const waiting = token && model.cluster?.status?.lastPromotionToken !== token ? { awaitingToken: JSON.parse(Buffer.from(token, 'base64').toString('utf8')) } : {};
  return {
    ...waiting,
    cluster: structuredClone(model.cluster),
    polls: null,
    writeLsn: lsn(model.writeLsn ?? model.replayLsn ?? '0/0'),
    replay: lsn(model.replayLsn ?? '0/0'),
    archived: lsn(model.writeLsn ?? model.replayLsn ?? '0/0'),
    systemId: model.systemId ?? '7300000000000000001',
  };
}

/** `X/Y` (hex) → bytes. */
function lsn(text) {
  const [hi, lo] = String(text).split('/');
  return parseInt(hi || '0', 16) * 0x100000000 + parseInt(lo || '0', 16);
}
function hex(n) {
  return `${Math.floor(n / 0x100000000).toString(16).toUpperCase()}/${(n % 0x100000000).toString(16).toUpperCase()}`;
}
function segmentOf(n, timeline) {
  const h = (v) => v.toString(16).toUpperCase().padStart(8, '0');
  return `${h(timeline)}${h(Math.floor(n / 0x100000000))}${h(Math.floor((n % 0x100000000) / 0x1000000))}`;
}

function fail(message, code = 1) {
  process.stderr.write(`${message}\n`);
  process.exitCode = code;
}

// CloudWatch alarms, per region (`{ region: { alarmName: { ActionsEnabled } } }`): enable-/
// disable-alarm-actions set ActionsEnabled and, as CloudWatch does, ignore names that do not
// exist in that region; describe-alarms --query MetricAlarms[0].ActionsEnabled --output text
// prints True/False, or None when there is no such alarm.
function cloudwatch(initial, key) {
  const st = (state[key] ??= { regions: structuredClone(initial) });
  const flag = (name) => args[args.indexOf(name) + 1];
  const alarms = st.regions[flag('--region')] ?? {};
  const names = [];
  for (let i = args.indexOf('--alarm-names') + 1; i < args.length && !args[i].startsWith('--'); i++) names.push(args[i]);
  const op = args[1];
  if (op === 'enable-alarm-actions' || op === 'disable-alarm-actions') {
    for (const name of names) if (alarms[name]) alarms[name].ActionsEnabled = op === 'enable-alarm-actions';
    return;
  }
  if (op === 'describe-alarms' && flag('--query') === 'MetricAlarms[0].ActionsEnabled') {
    const alarm = alarms[names[0]];
    process.stdout.write(`${alarm ? (alarm.ActionsEnabled ? 'True' : 'False') : 'None'}\n`);
    return;
  }
  fail(`fake aws: unsupported cloudwatch call: ${joined}`, 98);
}

// SSM Parameter Store for the named parameters: put-parameter (--overwrite) sets, delete-parameter
// removes, get-parameter (--query Parameter.Value --output text) prints the value; a missing
// parameter is ParameterNotFound (exit 254) for get and delete, as the CLI reports it.
function ssm(initial, key) {
  const st = (state[key] ??= { values: { ...initial } });
  const name = args[args.indexOf('--name') + 1];
  const op = args[1];
  if (op === 'put-parameter') {
    if (name in st.values && st.values[name] !== null && !args.includes('--overwrite')) return fail('An error occurred (ParameterAlreadyExists) when calling the PutParameter operation: The parameter already exists.', 254);
    st.values[name] = args[args.indexOf('--value') + 1];
    process.stdout.write(JSON.stringify({ Version: 1, Tier: 'Standard' }));
    return;
  }
  if (st.values[name] === undefined || st.values[name] === null) return fail(`An error occurred (ParameterNotFound) when calling the ${op === 'delete-parameter' ? 'DeleteParameter' : 'GetParameter'} operation: `, 254);
  if (op === 'delete-parameter') {
    st.values[name] = null;
    return;
  }
  process.stdout.write(`${st.values[name]}\n`);
}
