#!/usr/bin/env node
// Recording fake of `aws` / `kubectl`: appends its argv to $FAKE_LOG and answers from the
// first rule in $FAKE_RULES whose tool matches and whose regex matches the joined argv.
// A rule's responses are used in order; the last one repeats. No rule: exit 99.
// A rule with `s3` ({ bucket: [{ Key, LastModified }] }) answers `s3api list-objects-v2` as S3
// and the CLI do (see below); every simulated page is logged to $FAKE_S3_LOG. Those buckets are
// also the object store the CloudNativePG model archives into and replays from (objectStore()),
// with S3 replication between buckets as the rule's `s3Replication` says.
// A rule with `cnpg` holds one CloudNativePG Cluster (see cnpg() below); one with `cloudwatch`
// holds alarms per region (see cloudwatch() below).
import fs from 'node:fs';
import crypto from 'node:crypto';
import path from 'node:path';
import zlib from 'node:zlib';
import { parseAllDocuments } from 'yaml';

/** PostgreSQL's WAL segment size (16 MiB, initdb's default, which CloudNativePG keeps). */
const SEGMENT_BYTES = 0x1000000;
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
const statePath = process.env.FAKE_STATE;
const state = fs.existsSync(statePath) ? JSON.parse(fs.readFileSync(statePath, 'utf8')) : {};
if (rules[index].s3 && args[1] === 'get-object') {
  // GetObject into the outfile (the last argument): the object's `Body` (text), gzip-compressed
  // when the key ends in .gz as barman-cloud stores it; NoSuchKey (exit 254) when absent.
  const flag = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const object = objectStore().visible(flag('--bucket'))?.find((o) => o.Key === flag('--key'));
  if (!object) {
    process.stderr.write('An error occurred (NoSuchKey) when calling the GetObject operation: The specified key does not exist.\n');
    process.exit(254);
  }
  const body = Buffer.from(object.Body ?? '', 'utf8');
  fs.writeFileSync(args.at(-1), object.Key.endsWith('.gz') ? zlib.gzipSync(body) : body);
  process.stdout.write(JSON.stringify({ ContentLength: body.length, ETag: '"fake"' }));
  process.exit(0);
} else if (rules[index].s3) {
  const flag = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const bucket = objectStore().visible(flag('--bucket'));
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
  let contents = merged.filter((e) => e.object).map((e) => ({ Key: e.object.Key, LastModified: e.object.LastModified }));
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
// kubeconfig context) naming the cluster. A replica replays from an ARCHIVE FOLDER, never from
// another cluster: `spec.replica.source` names an `externalClusters[]` entry, whose
// `barmanObjectStore.destinationPath` + `serverName` (default: that entry's name) is the folder
// `<destinationPath>/<serverName>/{base,wals}` in the object store (objectStore(): the `s3`
// rule's buckets, with S3 replication between them). A primary archives its WAL into the folder
// of its own `spec.backup.barmanObjectStore` (serverName default: metadata.name); the replica sees
// it only if its folder is that one, or the same key in a bucket it is replicated into, after
// the replication lag. A folder in a bucket that does not exist, or one nobody writes, holds
// nothing: the replica replays nothing.
// - a new Cluster with `bootstrap.recovery` needs a base backup (`base/<id>/…`) in the folder
//   of the external cluster it names: without one barman-cloud-restore finds "no target backup
//   found", the full-recovery job fails, and the Cluster stays "Setting up primary" with no
//   instance (no currentPrimary, no pod to exec into), as CloudNativePG leaves it;
// - a Cluster is a replica when `replica.enabled` says so, else when `replica.primary` ≠
//   `replica.self` (default: metadata.name) — CloudNativePG's IsReplica();
// - primary → replica (demotion): clean shutdown; the shutdown checkpoint (REDO = the last
//   written LSN, `writeLsn`) is archived and only then, `demotionPolls` reads later,
//   `status.demotionToken` appears (base64 JSON of pg_controldata's fields, as the operator
//   writes it); `demotionArchives: false` models an archive that never takes it: no token;
// - a replica replays `replayPerPoll` bytes per read of itself, never past the end of the WAL
//   its folder holds (a primary archives up to its `writeLsn`; a demoted one its shutdown
//   checkpoint);
// - replica → primary with `promotionToken`: the webhook rejects it next to `minApplyDelay`;
//   a token of another system or timeline never promotes; otherwise the designated primary
//   stays in recovery until it has replayed up to the token's REDO location, then promotes;
// - replica → primary without a token: promotes at once at whatever it replayed (the
//   data-loss path). Every promotion records `promotedAt` and `lostBytes` (what the other
//   modelled cluster of the same database system WROTE beyond it: the truth, whatever folder the
//   replica was pointed at) in the fake's state, for the tests to judge.
//
// The app owner's password (the bootstrap's `owner`, default `app`), as CloudNativePG 1.30 handles
// it (source: github.com/cloudnative-pg/cloudnative-pg, api/v1/cluster_funcs.go,
// internal/controller/cluster_create.go, internal/management/controller/instance_controller.go and
// internal/management/controller/roles/):
// - the role, its password and its xmin are data, replayed with the WAL: a replica's role is its
//   source's (here: a promotion takes the other modelled cluster's role);
// - the operator creates `<name>-app` (random password, owned by the Cluster: deleted with it) when
//   ShouldCreateApplicationSecret(): initdb with owner and database and no `secret` (replica or
//   not), or recovery with owner and database and no `secret` on a cluster that is NOT a replica.
//   An existing Secret is never rewritten;
// - the instance manager of a true primary (no standby.signal: never a designated primary), when
//   ShouldCreateApplicationDatabase() (the same conditions, `secret` or not), sets the owner's
//   password from GetApplicationSecretName() (refreshCredentialsFromSecret) unless it already
//   applied that Secret's resourceVersion: a per-process cache, kept across promotions and
//   demotions (both in-process: pg_ctl promote; fencing stops only PostgreSQL), emptied only by
//   new pods (a rebuilt Cluster);
// - the managed-roles reconciler (RoleSynchronizer, true primaries only) updates a role in
//   `spec.managed.roles` whose passwordSecret's resourceVersion OR whose xmin differs from what
//   it stored in status.managedRolesStatus.passwordStatus, so a password another cluster set (a
//   new xmin, replayed) is set back; a missing passwordSecret leaves the role as it is.
// `exec … psql "… user=<u> password=<p> …"` authenticates against the role's current password
// (psql's "password authentication failed" otherwise); `get secret <name> -o json` reads the
// model's Secrets (`secrets`: name → password, in the database's namespace).
function cnpg(model, key) {
  const settle = model.settlePolls ?? 2;
  const lag = model.recoveryLagPolls ?? 1;
  // Every named model exists from the first call on: a replica reads its source's state.
  for (const r of rules) if (r.cnpg?.name) state[`cnpg:${r.cnpg.name}`] ??= initialCnpg(r.cnpg);
  const st = (state[model.name ? `cnpg:${model.name}` : key] ??= initialCnpg(model));
  const name = st.cluster?.metadata?.name ?? 'orders';
  const replica = () => replicaOf(st.cluster);
  archiveWrites();
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
  // The archive folder `spec.replica.source` resolves to, as this cluster's instances read it.
  const source = () => {
    const spec = st.cluster?.spec;
    const ext = spec?.externalClusters?.find((e) => e.name === spec?.replica?.source);
    const folder = ext ? folderOf(ext.barmanObjectStore, ext.name) : undefined;
    // Replay goes on from where it is, on the timeline it is on.
    return folder ? readFolder(folder, st.replay, st.replayTimeline) : undefined;
  };
  const bootstrapOf = () => { const b = st.cluster?.spec?.bootstrap ?? {}; return { initdb: b.initdb, recovery: b.recovery }; };
  const owner = () => { const b = bootstrapOf(); return (b.initdb ?? b.recovery)?.owner ?? 'app'; };
  const appDatabase = () => {
    const { initdb, recovery } = bootstrapOf();
    if (initdb) return initdb.owner && initdb.database ? initdb : undefined;
    return recovery?.owner && recovery.database && !replica() ? recovery : undefined;
  };
  const alterRole = (password) => {
    st.rolePassword = password;
    state.xid = (state.xid ?? 1000) + 1;
    st.roleXmin = state.xid;
  };
  const putSecret = (secret, password) => {
    st.secrets[secret] = password;
    st.secretVersions[secret] = (st.secretVersions[secret] ?? 0) + 1;
  };
  const version = (secret) => (st.secrets[secret] === undefined ? undefined : (st.secretVersions[secret] ?? 0));
  // The operator, then a true primary's instance manager (roles, then the owner's credentials).
  const reconcileRoles = () => {
    if (!st.cluster || st.bootstrapFailed) return;
    const app = appDatabase();
    if (app && !app.secret?.name && st.secrets[`${name}-app`] === undefined) {
      putSecret(`${name}-app`, crypto.randomBytes(12).toString('hex'));
      st.ownedSecrets = [...new Set([...(st.ownedSecrets ?? []), `${name}-app`])];
    }
    if (inRecovery()) return;
    for (const role of st.cluster.spec?.managed?.roles ?? []) {
      const from = role.passwordSecret?.name;
      if (role.name !== owner() || (role.ensure ?? 'present') !== 'present' || !from || version(from) === undefined) continue;
      const stored = st.passwordStatus[role.name];
      if (stored?.secretResourceVersion === version(from) && stored.transactionID === st.roleXmin) continue;
      alterRole(st.secrets[from]);
      st.passwordStatus[role.name] = { secretResourceVersion: version(from), transactionID: st.roleXmin };
    }
    const secret = app?.secret?.name ?? `${name}-app`;
    if (app && version(secret) !== undefined && st.appliedSecrets[secret] !== version(secret)) {
      alterRole(st.secrets[secret]);
      st.appliedSecrets[secret] = version(secret);
    }
  };
  const promote = (at) => {
    st.promotedAt = hex(at);
    const writers = rules.filter((r) => r.cnpg?.name && r.cnpg.name !== model.name).map((r) => state[`cnpg:${r.cnpg.name}`]).filter((o) => o && o.systemId === st.systemId);
    // The roles are what it replayed: its source's, password and xmin included.
    if (writers[0]) {
      st.rolePassword = writers[0].rolePassword;
      st.roleXmin = writers[0].roleXmin;
    }
    st.lostBytes = Math.max(0, ...writers.map((o) => o.writeLsn - at));
    const parent = st.cluster.status?.timelineID ?? model.timeline ?? 1;
    st.timeline = parent + 1;
    st.writeLsn = at;
    st.polls = 0;
    archiveHistory(st, parent, at);
    archiveWrites();
  };
  // The operator reconciles on its own, not only when the tool reads the Cluster.
  reconcileRoles();
  if (args[2] === 'get' && args[3] === 'secret') {
    const secret = args[4];
    if (st.secrets[secret] === undefined) return fail(`Error from server (NotFound): secrets "${secret}" not found`);
    const b64 = (v) => Buffer.from(v).toString('base64');
    return void process.stdout.write(JSON.stringify({ kind: 'Secret', metadata: { name: secret }, type: 'kubernetes.io/basic-auth', data: { username: b64(owner()), password: b64(st.secrets[secret]) } }));
  }
  if (args.includes('exec')) {
    if (!st.cluster || st.bootstrapFailed) return fail(`Error from server (NotFound): pods "${args[args.indexOf('exec') + 3]}" not found`);
    const conninfo = args.find((a) => /(^| )password=/.test(a));
    if (conninfo) {
      const user = /(?:^| )user=(\S+)/.exec(conninfo)?.[1];
      const password = /(?:^| )password=(\S+)/.exec(conninfo)?.[1];
      if (user !== owner() || password !== st.rolePassword) return fail(`psql: error: connection to server at "${name}-rw" failed: FATAL:  password authentication failed for user "${user}"`, 2);
      return void process.stdout.write('1\n');
    }
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
      // Demotion: clean shutdown, shutdown checkpoint archived (archiveWrites, while it was primary), then
      // the token. The demoted instance has replayed its own WAL up to that checkpoint.
      st.demoting = 0;
      st.replay = Math.max(st.replay, st.writeLsn);
    } else if (wasReplica && !replica()) {
      // Promoted back before its demotion finished: no token will come.
      delete st.demoting;
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
    // Garbage collection: what the operator made for the Cluster (owner reference) goes with it.
    for (const secret of st.ownedSecrets ?? []) {
      delete st.secrets[secret];
      delete st.secretVersions[secret];
    }
    st.ownedSecrets = [];
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
    // New pods: a new instance manager (nothing applied yet) and a new status.
    st.appliedSecrets = {};
    st.passwordStatus = {};
    delete st.bootstrapFailed;
    // A new cluster bootstraps from its source's base backup: it replays from there.
    st.replay = lsn(model.bootstrapLsn ?? model.replayLsn ?? '0/0');
    delete st.awaitingToken;
    const recovery = doc.spec?.bootstrap?.recovery;
    if (recovery?.source) {
      const ext = doc.spec?.externalClusters?.find((e) => e.name === recovery.source);
      const folder = ext ? folderOf(ext.barmanObjectStore, ext.name) : undefined;
      const found = folder ? readFolder(folder) : undefined;
      if (!found?.bases.length) {
        // The full-recovery job fails; the Cluster never gets an instance.
        st.polls = null;
        st.bootstrapFailed = !folder
          ? `no external cluster ${recovery.source} with a barmanObjectStore`
          : !found.exists
            ? `NoSuchBucket: ${folder.bucket}`
            : `no target backup found in s3://${folder.bucket}/${folder.prefix}`;
      }
    }
    process.stdout.write(`cluster.postgresql.cnpg.io/${name} serverside-applied\n`);
    return;
  }
  if (!st.cluster) {
    if (args.includes('--ignore-not-found')) return;
    return fail(`Error from server (NotFound): clusters.postgresql.cnpg.io "${name}" not found`);
  }
  if (args.includes('name') && args[args.indexOf('name') - 1] === '-o') return void process.stdout.write(`cluster.postgresql.cnpg.io/${name}\n`);
  if (st.bootstrapFailed) return void process.stdout.write(JSON.stringify(st.cluster));
  // Replay: a replica (or a promotion waiting for its token) follows the WAL its folder holds.
  const src = source();
  if ((replica() || st.awaitingToken) && src?.end !== undefined) {
    st.replay = Math.max(st.replay, Math.min(src.end, st.replay + (model.replayPerPoll ?? 0x1000000)));
    if (st.replay === src.end) st.replayTimeline = src.timeline;
  }
  if (st.awaitingToken) {
    const t = st.awaitingToken;
    // A replica replays the timeline its folder's WAL is on.
    const timeline = src?.timeline ?? st.cluster.status?.timelineID ?? model.timeline ?? 1;
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
  reconcileRoles();
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
    systemId: model.systemId ?? '7300000000000000001',
    secrets: { ...(model.secrets ?? {}) },
    secretVersions: {},
    // A `<name>-app` found at the start is the one the operator generated (owned by the Cluster).
    ownedSecrets: model.ownedSecrets ?? Object.keys(model.secrets ?? {}).filter((s) => s === `${model.cluster?.metadata?.name ?? 'orders'}-app`),
    rolePassword: model.rolePassword,
    roleXmin: 1,
    // The instance manager's applied Secrets (by resourceVersion) and status.managedRolesStatus.passwordStatus.
    appliedSecrets: {},
    passwordStatus: {},
  };
}

/** CloudNativePG's IsReplica(): `replica.enabled` when set, else `replica.primary` ≠ `replica.self` (default: metadata.name). */
function replicaOf(cluster) {
  const r = cluster?.spec?.replica;
  if (!r) return false;
  if (r.enabled !== undefined) return r.enabled === true;
  return r.primary !== undefined && r.primary !== (r.self ?? cluster.metadata?.name);
}

/**
 * The `s3` rule's buckets as one object store, shared by ListObjectsV2 and the CloudNativePG
 * model; writes (a primary archiving) are kept in the fake's state. S3 Replication
 * (`s3Replication: [{ from, to, lagSeconds }]`, one per replication rule): an object written
 * to `from` appears under the same key in `to` `lagSeconds` after it was written, never before,
 * and never in a bucket that does not exist (ListObjectsV2 there: NoSuchBucket).
 */
function objectStore() {
  const rule = rules.find((r) => r.s3);
  state.s3 ??= structuredClone(rule?.s3 ?? {});
  const now = Date.now();
  const visible = (bucket) => {
    const own = state.s3[bucket];
    if (!own) return undefined;
    const byKey = new Map(own.map((o) => [o.Key, o]));
    for (const r of (rule?.s3Replication ?? []).filter((x) => x.to === bucket)) {
      for (const o of state.s3[r.from] ?? []) {
        const at = Date.parse(o.LastModified) + (r.lagSeconds ?? 0) * 1000;
        if (at <= now && !byKey.has(o.Key)) byKey.set(o.Key, { ...o, LastModified: isoSeconds(at) });
      }
    }
    return [...byKey.values()];
  };
  const put = (bucket, object) => {
    const objects = state.s3[bucket];
    if (!objects) return;
    const i = objects.findIndex((o) => o.Key === object.Key);
    if (i < 0) objects.push(object);
    else if (objects[i].EndLsn !== object.EndLsn) objects[i] = object;
  };
  return { visible, put };
}

function isoSeconds(ms) {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', '+00:00');
}

/** A barman-cloud server folder: `<destinationPath>/<serverName>/`. */
function folderOf(store, defaultServerName) {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(store?.destinationPath ?? '');
  if (!m) return undefined;
  const rest = m[2].replace(/\/+$/, '');
  return { bucket: m[1], prefix: `${rest ? `${rest}/` : ''}${store.serverName ?? defaultServerName}/` };
}

/**
 * What a folder holds as a reader in its bucket sees it: base backup ids (`base/<id>/…`), the
 * end of its WAL (a segment's end, or the `EndLsn` a primary archived up to) and its timeline.
 *
 * With `from` (a replica's replay LSN on `timeline`): how far PostgreSQL's restore_command replay
 * gets from there. recovery_target_timeline = latest: the newest timeline is found by probing
 * `<tli+1>.history`, `<tli+2>.history`, … (an object's `Body`, `<parent>\t<switch LSN>\t…` lines) until
 * one is missing, and followed only if it lists `timeline` switching at or after `from`; then
 * segment after segment, each from the newest timeline of that path begun at or before it. The
 * first segment absent ends replay, whatever the bucket holds beyond it.
 */
function readFolder(folder, from, replicaTimeline) {
  const objects = objectStore().visible(folder.bucket);
  if (!objects) return { exists: false, bases: [] };
  const inside = objects.filter((o) => o.Key.startsWith(folder.prefix));
  const bases = [...new Set(inside.filter((o) => o.Key.startsWith(`${folder.prefix}base/`)).map((o) => o.Key.slice(folder.prefix.length + 5).split('/')[0]))];
  const files = new Map();
  const histories = new Map();
  for (const o of inside) {
    const h = /\/wals\/([0-9A-F]{8})\.history(\.gz)?$/.exec(o.Key);
    if (h) histories.set(parseInt(h[1], 16), String(o.Body ?? '').split('\n').map((l) => /^\s*(\d+)\s+(\S+)/.exec(l)).filter(Boolean).map((m) => ({ parent: Number(m[1]), at: lsn(m[2]) })));
    const m = /\/wals\/[0-9A-F]{16}\/([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})(\.gz)?$/.exec(o.Key);
    if (!m) continue;
    const segno = parseInt(m[2], 16) * 0x100 + parseInt(m[3], 16);
    const e = o.EndLsn !== undefined ? lsn(o.EndLsn) : (segno + 1) * SEGMENT_BYTES;
    files.set(`${parseInt(m[1], 16)}:${segno}`, e);
  }
  if (from === undefined) {
    let end;
    let timeline;
    for (const [k, e] of files) {
      if (end === undefined || e > end) end = e;
      timeline = Math.max(timeline ?? 0, Number(k.split(':')[0]));
    }
    return { exists: true, bases, end, timeline };
  }
  // A replica that has not replayed yet starts on the timeline its first segment is on (its base backup's).
  // A replica bootstrapped from a base backup begins with the folder's first segment at or after its position.
  const segnos = [...files.keys()].map((k) => Number(k.split(':')[1]));
  const start = replicaTimeline === undefined && !segnos.includes(Math.floor(from / SEGMENT_BYTES)) ? Math.min(...segnos.filter((n) => n >= Math.floor(from / SEGMENT_BYTES))) : Math.floor(from / SEGMENT_BYTES);
  replicaTimeline ??= Math.max(...[...files.keys()].filter((k) => Number(k.split(':')[1]) === start).map((k) => Number(k.split(':')[0])));
  if (!Number.isFinite(replicaTimeline)) return { exists: true, bases, end: undefined, timeline: undefined };
  let newest = replicaTimeline;
  while (histories.has(newest + 1)) newest += 1;
  let path = [{ timeline: replicaTimeline, begins: 0 }];
  const lines = histories.get(newest) ?? [];
  const i = lines.findIndex((l) => l.parent === replicaTimeline);
  if (newest !== replicaTimeline && i >= 0 && lines[i].at >= from) {
    const later = lines.slice(i);
    path = [...later.map((l, j) => ({ timeline: l.parent, begins: j === 0 ? 0 : Math.floor(later[j - 1].at / SEGMENT_BYTES) })), { timeline: newest, begins: Math.floor(later.at(-1).at / SEGMENT_BYTES) }];
  }
  let end;
  let timeline;
  for (let segno = start; ; segno++) {
    const tli = [...path].reverse().find((p) => p.begins <= segno).timeline;
    const e = files.get(`${tli}:${segno}`);
    if (e === undefined) break;
    end = e;
    timeline = tli;
  }
  return { exists: true, bases, end, timeline };
}

/**
 * Every modelled primary archives what it wrote into its own `spec.backup` folder
 * (archive_timeout switches the segment, so the last write is archived): one object per
 * segment, rewritten only when it grows.
 *
 * An archiver that lags (`archiverBehindSegments: k` on the cnpg rule, k ≥ 1): PostgreSQL hands
 * archive_command complete segments one at a time, in order, and keeps each in pg_wal (a `.ready`
 * file) until it returned 0. So the last k segments written (the one holding `writeLsn`, switched,
 * and the k − 1 before it) are on the primary's WAL volume only; the folder ends where the segment
 * before them ends. A replica replays no further; what the primary wrote beyond is lost if its
 * region goes now (the unarchived segments, whole).
 */
function archiveWrites() {
  for (const r of rules) {
    const st = r.cnpg?.name ? state[`cnpg:${r.cnpg.name}`] : undefined;
    if (!st?.cluster || st.bootstrapFailed || st.awaitingToken || replicaOf(st.cluster) || st.writeLsn === 0) continue;
    const folder = folderOf(st.cluster.spec?.backup?.barmanObjectStore, st.cluster.metadata?.name ?? 'orders');
    if (!folder) continue;
    const timeline = st.timeline ?? st.cluster.status?.timelineID ?? r.cnpg.timeline ?? 1;
    const behind = r.cnpg.archiverBehindSegments ?? 0;
    // The end of the last segment the archiver finished (behind ≥ 1), else the last write.
    const end = behind > 0 ? (Math.floor(st.writeLsn / SEGMENT_BYTES) - behind + 1) * SEGMENT_BYTES : st.writeLsn;
    if (end <= 0) continue;
    const last = Math.floor((behind > 0 ? end - 1 : end) / SEGMENT_BYTES);
    // archive_command gets every segment in turn, none skipped, however far one write reached: from
    // the first this model archived on the timeline (its start, or the promotion's switch segment).
    st.archiveFrom ??= {};
    const first = (st.archiveFrom[timeline] ??= last);
    for (let segno = first; segno <= last; segno++) {
      const segment = segmentOf(segno * SEGMENT_BYTES, timeline);
      objectStore().put(folder.bucket, { Key: `${folder.prefix}wals/${segment.slice(0, 16)}/${segment}.gz`, LastModified: isoSeconds(Date.now()), EndLsn: hex(segno === last ? end : (segno + 1) * SEGMENT_BYTES) });
    }
  }
}

/**
 * A promotion ends recovery on a new timeline, and PostgreSQL archives its `<tli>.history` at once:
 * the parent's history lines plus `<parent>\t<switch LSN>\t<reason>` (what a replica of the folder
 * needs to follow the switch). Histories are per database system, as timelines are.
 */
function archiveHistory(st, parent, at) {
  state.histories ??= {};
  const lines = [...(state.histories[`${st.systemId}:${parent}`] ?? []), `${parent}\t${hex(at)}\tno recovery target specified`];
  state.histories[`${st.systemId}:${parent + 1}`] = lines;
  st.archiveFrom = { ...st.archiveFrom, [parent + 1]: Math.floor(at / SEGMENT_BYTES) };
  const folder = folderOf(st.cluster.spec?.backup?.barmanObjectStore, st.cluster.metadata?.name ?? 'orders');
  if (!folder) return;
  const name = (parent + 1).toString(16).toUpperCase().padStart(8, '0');
  objectStore().put(folder.bucket, { Key: `${folder.prefix}wals/${name}.history`, LastModified: isoSeconds(Date.now()), Body: `${lines.join('\n')}\n` });
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
