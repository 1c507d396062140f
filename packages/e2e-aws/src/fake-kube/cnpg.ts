import type { FakeKubeApi, Ref } from '../fake-kube-api';
import { BarmanStore, walSegmentName, WAL_SEGMENT_BYTES, type Position, type Row } from './barman-store';
import type { Obj } from './patch';

/**
 * CloudNativePG as its documentation describes it, one step per controller tick:
 *
 * - a Cluster bootstraps by initdb, by `bootstrap.recovery` from a named external cluster's
 *   object store (its `serverName`, defaulting to the external cluster's name: the newest base
 *   backup there, then the WAL archived after it, on a new timeline), or as a replica cluster
 *   (`spec.replica.enabled`, or `spec.replica.primary` naming another cluster) from
 *   `externalClusters[spec.replica.source]`, then keeps replaying what that folder receives;
 *   without a base backup there it stays in "Setting up primary";
 * - phases `Setting up primary` → `Creating a new replica` → `Cluster in healthy state`,
 *   `status.currentPrimary`/`targetPrimary` = `<name>-1`, condition `Ready` (ClusterIsReady);
 * - promotion when a replica cluster's spec stops being a replica (`Promoting to primary
 *   cluster` for a tick, then a new timeline, `pg_is_in_recovery()` f); with
 *   `spec.replica.promotionToken` only once the replica replayed up to the token's REDO location
 *   of the same system (distributed topology switchover), else it waits;
 * - demotion of a primary whose `spec.replica.primary` names another cluster: it stops writing,
 *   archives its last WAL, writes `status.demotionToken` (base64 JSON of its pg_controldata:
 *   `latestCheckpointTimelineID`, `redoWalFile`, `databaseSystemIdentifier`,
 *   `latestCheckpointREDOLocation`, `timeOfLatestCheckpoint`, `operatorVersion`) and replays
 *   from its source like any replica cluster;
 * - WAL archiving into `spec.backup.barmanObjectStore` (`<destinationPath>/<serverName>`,
 *   serverName defaulting to the Cluster's name) by the primary and by a replica cluster's
 *   designated primary; a timeline's first archive into a folder another system or timeline
 *   already used fails (barman-cloud's "Expected empty archive"): condition ContinuousArchiving
 *   False, and Backups then end `walArchivingFailing`;
 * - `cnpg.io/hibernation: on`: instances (pods) removed, data kept, condition
 *   `cnpg.io/hibernation` True; `off`/absent brings them back;
 * - Backup: `running`, then `completed` (`backupId`, `startedAt`, `stoppedAt`, `serverName`,
 *   `destinationPath`) with a base backup in the cluster's folder, or `failed` with `error`
 *   (no such cluster, no barmanObjectStore, hibernated).
 *
 * - its validating webhook: `spec.replica.enabled` and `spec.replica.primary` exclude each other;
 *   `replica.source`, and in the distributed topology `replica.self` and `replica.primary`, name
 *   entries of `externalClusters`; `replica.promotionToken` excludes `minApplyDelay`;
 * - promotion with a token records it in `status.lastPromotionToken`.
 *
 * `kubectl exec … psql` into an instance answers `SELECT pg_is_in_recovery()`,
 * `SELECT pg_current_wal_lsn()` (a primary's write position; in recovery PostgreSQL refuses it)
 * and `SELECT pg_last_wal_replay_lsn()` (a replica's replay position: what it read from its
 * source's archive; after a promotion the position recovery ended at; NULL, an empty line, on
 * a server that never recovered), and archive-freshness's `SELECT pg_is_in_recovery(),
 * pg_last_wal_replay_lsn(), timeline_id, (wal_segment_size) FROM pg_control_checkpoint()` as
 * `t|X/Y|<timeline>|16777216` (psql -XAtq). Any other query fails as psql does on an error
 * (exit 1): this is not PostgreSQL.
 */
export const CNPG = 'postgresql.cnpg.io/v1';
export const HEALTHY = 'Cluster in healthy state';
const MANAGER = 'cloudnative-pg';

interface Db {
  systemId: string;
  timeline: number;
  /** The write position of a primary, the replay position of a replica. */
  lsn: number;
  rows: Row[];
  recovering: boolean;
  /** Where recovery ended (pg_last_wal_replay_lsn() stays there after a promotion). */
  replayedTo?: number;
}

interface State {
  step: number;
  db?: Db;
  promoting?: boolean;
  /** Folders this incarnation archived into (the empty-archive check passed). */
  archivedInto: Set<string>;
  archiveError?: string;
  demotionToken?: string;
  waiting?: string;
  /** A replica whose restore_command lags the archive: it replays nothing new until promoted. */
  replayHeld?: boolean;
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const lsnText = (lsn: number) => `${Math.floor(lsn / 2 ** 32).toString(16).toUpperCase()}/${(lsn % 2 ** 32).toString(16).toUpperCase()}`;
const walFile = (timeline: number, lsn: number) => `${timeline.toString(16).toUpperCase().padStart(8, '0')}${Math.floor(lsn / 2 ** 32).toString(16).toUpperCase().padStart(8, '0')}${Math.floor((lsn % 2 ** 32) / 2 ** 24).toString(16).toUpperCase().padStart(8, '0')}`;
const parseLsn = (text: string) => {
  const [hi, lo] = text.split('/');
  return parseInt(hi ?? '0', 16) * 2 ** 32 + parseInt(lo ?? '0', 16);
};

export interface CnpgOptions {
  readonly store: BarmanStore;
}

export class FakeCnpg {
  private readonly states = new Map<string, State>();

  constructor(
    private readonly api: FakeKubeApi,
    private readonly options: CnpgOptions,
  ) {
    api.addController(() => this.reconcile());
    api.addAdmission('clusters.postgresql.cnpg.io', (obj) => this.admit(obj));
    api.onExec('postgres', (pod, _container, command) => this.psql(pod, command));
  }

  /** The app's write path: an INSERT on the cluster's primary, refused unless it is writable. */
  insert(namespace: string, cluster: string, row: Row): string | undefined {
    const { state, obj } = this.lookup(namespace, cluster);
    const why = this.notWritable(obj, state);
    if (why) return why;
    state!.db!.rows.push(row);
    state!.db!.lsn += 0x100;
    return undefined;
  }

  /**
   * A replica cluster that stops replaying where it is, as one whose restore_command has not
   * fetched the newest segments yet (replay runs behind the archive). Its promotion still replays
   * everything archived first, as PostgreSQL ends recovery only after the archive runs dry.
   */
  holdReplay(namespace: string, cluster: string): void {
    const { state } = this.lookup(namespace, cluster);
    if (!state?.db?.recovering) throw new Error(`holdReplay: ${namespace}/${cluster} is not a running replica`);
    state.replayHeld = true;
  }

  /**
   * archive_timeout on a primary: it switches to the next WAL segment (here: one record into it)
   * and archives that at its next reconcile. Returns the new segment's name.
   */
  switchWal(namespace: string, cluster: string): string {
    const { state, obj } = this.lookup(namespace, cluster);
    const why = this.notWritable(obj, state);
    if (why) throw new Error(`switchWal: ${namespace}/${cluster}: ${why}`);
    const db = state!.db!;
    db.lsn = (Math.floor(Math.max(db.lsn - 1, 0) / WAL_SEGMENT_BYTES) + 1) * WAL_SEGMENT_BYTES + 0x100;
    return walSegmentName(db.timeline, db.lsn);
  }

  /** The app's read path (any running instance: a replica reads too). */
  rows(namespace: string, cluster: string): Row[] | undefined {
    const { state, obj } = this.lookup(namespace, cluster);
    if (!obj || !state?.db || this.hibernated(obj) || state.step < 2) return undefined;
    return [...state.db.rows];
  }

  /** The database's WAL position as PostgreSQL would report it (for the phase's checks), or undefined before it is up. */
  position(namespace: string, cluster: string): { systemId: string; timeline: number; lsn: string; replayedTo?: string } | undefined {
    const db = this.lookup(namespace, cluster).state?.db;
    return db && { systemId: db.systemId, timeline: db.timeline, lsn: lsnText(db.lsn), replayedTo: db.replayedTo === undefined ? undefined : lsnText(db.replayedTo) };
  }

  /** Whether the cluster's primary accepts writes, and why not. */
  notWritable(obj: Obj | undefined, state: State | undefined): string | undefined {
    if (!obj) return 'no such database cluster';
    if (this.hibernated(obj)) return 'the database is hibernated';
    if (!state?.db || state.step < 2) return 'the database is not up';
    if (state.db.recovering) return 'cannot execute INSERT in a read-only transaction (the database is in recovery)';
    return undefined;
  }

  private lookup(namespace: string, name: string): { obj?: Obj; state?: State } {
    const obj = this.api.read({ apiVersion: CNPG, kind: 'Cluster', namespace, name });
    return { obj, state: obj ? this.states.get((obj.metadata as Obj).uid as string) : undefined };
  }

  private hibernated(obj: Obj): boolean {
    return ((obj.metadata as Obj).annotations as Record<string, string> | undefined)?.['cnpg.io/hibernation'] === 'on';
  }

  private reconcile(): void {
    for (const cluster of this.api.all(CNPG, 'Cluster')) this.reconcileCluster(cluster);
    for (const backup of this.api.all(CNPG, 'Backup')) this.reconcileBackup(backup);
  }

  private ref(obj: Obj, kind = 'Cluster'): Ref {
    const m = obj.metadata as Obj;
    return { apiVersion: CNPG, kind, namespace: m.namespace as string, name: m.name as string };
  }

  /** CloudNativePG's Cluster.IsReplica: `enabled` decides when set, else `primary` ≠ `self` (default: the Cluster's name). */
  private wantsReplica(spec: Obj, name: string): boolean {
    const replica = spec.replica as { enabled?: boolean; primary?: string; self?: string } | undefined;
    if (!replica) return false;
    if (replica.enabled !== undefined && replica.enabled !== null) return replica.enabled;
    return replica.primary !== undefined && replica.primary !== (replica.self ?? name);
  }

  /** The webhook's checks of `spec.replica` against `externalClusters`. */
  private admit(obj: Obj): string[] {
    const spec = (obj.spec ?? {}) as Obj;
    const replica = spec.replica as { enabled?: boolean; primary?: string; self?: string; source?: string; promotionToken?: string; minApplyDelay?: string } | undefined;
    if (!replica) return [];
    const errors: string[] = [];
    const external = new Set(((spec.externalClusters as Obj[] | undefined) ?? []).map((e) => e.name as string));
    if (replica.enabled !== undefined && replica.enabled !== null && replica.primary) errors.push(`spec.replica.enabled: Invalid value: ${String(replica.enabled)}: replica.enabled cannot be used together with replica.primary`);
    for (const field of ['source', 'self', 'primary'] as const) {
      const value = replica[field];
      if (field === 'source' ? !external.has(value ?? '') : value !== undefined && !external.has(value)) errors.push(`spec.replica.${field}: Invalid value: ${JSON.stringify(value ?? '')}: external cluster not found in spec.externalClusters`);
    }
    if (replica.promotionToken && replica.minApplyDelay) errors.push('spec.replica.minApplyDelay: Invalid value: minApplyDelay cannot be applied with a promotion token');
    return errors;
  }

  private folderOfStore(store: Obj | undefined, defaultServer: string): string | undefined {
    if (!store?.destinationPath) return undefined;
    return BarmanStore.folderOf(store.destinationPath as string, (store.serverName as string | undefined) ?? defaultServer);
  }

  private externalFolder(spec: Obj, source: string | undefined): string | undefined {
    const ext = ((spec.externalClusters as Obj[] | undefined) ?? []).find((e) => e.name === source);
    return this.folderOfStore(ext?.barmanObjectStore as Obj | undefined, source ?? '');
  }

  private ownFolder(obj: Obj): string | undefined {
    const spec = obj.spec as Obj;
    return this.folderOfStore((spec.backup as Obj | undefined)?.barmanObjectStore as Obj | undefined, (obj.metadata as Obj).name as string);
  }

  private pods(obj: Obj, count: number, primaryRunning: boolean): void {
    const m = obj.metadata as Obj;
    const name = m.name as string;
    const ns = m.namespace as string;
    const existing = new Set(this.api.all('v1', 'Pod', ns).filter((p) => ((p.metadata as Obj).labels as Record<string, string>)?.['cnpg.io/cluster'] === name).map((p) => (p.metadata as Obj).name as string));
    for (let i = 1; i <= count; i++) {
      const pod = `${name}-${i}`;
      const phase = i === 1 && !primaryRunning ? 'Pending' : 'Running';
      if (!existing.has(pod)) {
        this.api.create(
          {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: pod, namespace: ns, labels: { 'cnpg.io/cluster': name, 'cnpg.io/instanceName': pod, 'cnpg.io/instanceRole': i === 1 ? 'primary' : 'replica' }, ownerReferences: [{ apiVersion: CNPG, kind: 'Cluster', name, uid: m.uid, controller: true, blockOwnerDeletion: true }] },
            spec: { containers: [{ name: 'postgres', image: (obj.spec as Obj).imageName ?? 'ghcr.io/cloudnative-pg/postgresql' }] },
          },
          MANAGER,
        );
      }
      this.api.writeStatus({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name: pod }, { phase });
    }
    for (const pod of existing) if (Number(pod.slice(name.length + 1)) > count) this.api.remove({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name: pod });
  }

  private reconcileCluster(obj: Obj): void {
    const m = obj.metadata as Obj;
    if (m.deletionTimestamp) return;
    const uid = m.uid as string;
    const name = m.name as string;
    const spec = obj.spec as Obj;
    const instances = Number(spec.instances ?? 1);
    let state = this.states.get(uid);
    if (!state) this.states.set(uid, (state = { step: 0, archivedInto: new Set() }));
    const status = { ...((obj.status as Obj | undefined) ?? {}) } as Obj;
    const conditions = new Map(((status.conditions as Obj[] | undefined) ?? []).map((c) => [c.type as string, c]));
    const condition = (type: string, ok: boolean, reason: string, message: string) => {
      const prev = conditions.get(type);
      conditions.set(type, { type, status: ok ? 'True' : 'False', reason, message, lastTransitionTime: prev && prev.status === (ok ? 'True' : 'False') ? prev.lastTransitionTime : now() });
    };
    const finish = () => {
      status.instances = instances;
      status.conditions = [...conditions.values()];
      if (state!.demotionToken) status.demotionToken = state!.demotionToken;
      if (state!.db) status.timelineID = state!.db.timeline;
      this.api.writeStatus(this.ref(obj), status);
    };
    const wantReplica = this.wantsReplica(spec, name);

    if (this.hibernated(obj)) {
      this.pods(obj, 0, false);
      Object.assign(status, { readyInstances: 0, phase: HEALTHY });
      delete status.phaseReason;
      condition('cnpg.io/hibernation', true, 'Hibernated', 'Cluster has been hibernated');
      condition('Ready', false, 'ClusterIsNotReady', 'Cluster Is Not Ready');
      return finish();
    }
    if (conditions.get('cnpg.io/hibernation')?.status === 'True') {
      condition('cnpg.io/hibernation', false, 'Resumed', 'Cluster has been resumed');
      state.step = Math.min(state.step, 1);
    }

    if (!state.db) {
      if (state.step === 0) {
        this.pods(obj, 1, false);
        Object.assign(status, { phase: 'Setting up primary', phaseReason: 'Creating primary instance', targetPrimary: `${name}-1`, readyInstances: 0 });
        condition('Ready', false, 'ClusterIsNotReady', 'Cluster Is Not Ready');
        state.step = 1;
        return finish();
      }
      const db = this.bootstrap(spec, wantReplica);
      if (typeof db === 'string') {
        Object.assign(status, { phase: 'Setting up primary', phaseReason: db });
        return finish();
      }
      state.db = db;
    }
    const db = state.db;

    if (state.step < 3) {
      this.pods(obj, state.step === 1 ? 1 : instances, true);
      Object.assign(status, { currentPrimary: `${name}-1`, targetPrimary: `${name}-1`, readyInstances: state.step === 1 ? 1 : instances, phase: state.step === 1 && instances > 1 ? 'Creating a new replica' : HEALTHY, currentPrimaryTimestamp: status.currentPrimaryTimestamp ?? now() });
      if (status.phase === HEALTHY) {
        delete status.phaseReason;
        condition('Ready', true, 'ClusterIsReady', 'Cluster is Ready');
      }
      state.step += 1;
      if (state.step === 2 && instances === 1) state.step = 3;
      this.archive(obj, state, condition);
      return finish();
    }
    this.pods(obj, instances, true);

    if (db.recovering && wantReplica) {
      state.promoting = false;
      const folder = this.externalFolder(spec, (spec.replica as Obj | undefined)?.source as string | undefined);
      const wal = folder ? this.options.store.read(folder)?.wal : undefined;
      if (!state.replayHeld && wal && wal.systemId === db.systemId && wal.lsn > db.lsn) Object.assign(db, { lsn: wal.lsn, timeline: wal.timeline, rows: [...wal.rows] });
    } else if (db.recovering && !wantReplica) {
      const token = (spec.replica as Obj | undefined)?.promotionToken as string | undefined;
      const wait = token ? this.tokenWait(token, db, spec) : undefined;
      if (wait) {
        state.waiting = wait;
        Object.assign(status, { phaseReason: wait });
        return finish();
      }
      if (!state.promoting) {
        state.promoting = true;
        // Recovery ends only once the archive it restores from has nothing newer.
        if (state.replayHeld) {
          const wal = this.options.store.read(this.externalFolder(spec, (spec.replica as Obj | undefined)?.source as string | undefined) ?? '')?.wal;
          if (wal && wal.systemId === db.systemId && wal.lsn > db.lsn) Object.assign(db, { lsn: wal.lsn, timeline: wal.timeline, rows: [...wal.rows] });
          state.replayHeld = false;
        }
        Object.assign(status, { phase: 'Promoting to primary cluster', phaseReason: 'Replica cluster promotion in progress' });
        condition('Ready', false, 'ClusterIsNotReady', 'Cluster Is Not Ready');
        return finish();
      }
      Object.assign(db, { recovering: false, replayedTo: db.lsn, timeline: db.timeline + 1, lsn: db.lsn + 0x100 });
      state.promoting = false;
      delete state.demotionToken;
      delete status.demotionToken;
      if (token) status.lastPromotionToken = token;
    } else if (!db.recovering && wantReplica) {
      // Demotion: a clean shutdown checkpoint, archived, and the token a promotion elsewhere waits for.
      db.lsn += 0x100;
      db.recovering = true;
      this.archive(obj, state, condition);
      state.demotionToken = Buffer.from(
        JSON.stringify({ latestCheckpointTimelineID: String(db.timeline), redoWalFile: walFile(db.timeline, db.lsn), databaseSystemIdentifier: db.systemId, latestCheckpointREDOLocation: lsnText(db.lsn), timeOfLatestCheckpoint: new Date().toUTCString(), operatorVersion: '1.30.0' }),
      ).toString('base64');
    }
    this.archive(obj, state, condition);
    delete status.phaseReason;
    Object.assign(status, { phase: HEALTHY, readyInstances: instances, currentPrimary: `${name}-1`, targetPrimary: `${name}-1` });
    condition('Ready', true, 'ClusterIsReady', 'Cluster is Ready');
    return finish();
  }

  /** Why a promotion with `token` must wait (or is refused), or nothing when it may go on. */
  private tokenWait(token: string, db: Db, spec: Obj): string | undefined {
    let content: Record<string, string>;
    try {
      content = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as Record<string, string>;
    } catch {
      return 'invalid spec.replica.promotionToken: not base64-encoded JSON';
    }
    if (content.databaseSystemIdentifier !== db.systemId) return `promotionToken is for database system ${content.databaseSystemIdentifier}, this replica replays ${db.systemId}`;
    const target = parseLsn(content.latestCheckpointREDOLocation ?? '0/0');
    if (db.lsn < target) {
      const folder = this.externalFolder(spec, (spec.replica as Obj | undefined)?.source as string | undefined);
      const wal = folder ? this.options.store.read(folder)?.wal : undefined;
      if (wal && wal.systemId === db.systemId && wal.lsn > db.lsn) Object.assign(db, { lsn: wal.lsn, timeline: wal.timeline, rows: [...wal.rows] });
      if (db.lsn < target) return `waiting to replay up to the promotion token's REDO location ${content.latestCheckpointREDOLocation} (at ${lsnText(db.lsn)})`;
    }
    if (Number(content.latestCheckpointTimelineID) !== db.timeline) return `promotionToken is for timeline ${content.latestCheckpointTimelineID}, this replica replays timeline ${db.timeline}`;
    return undefined;
  }

  private bootstrap(spec: Obj, replica: boolean): Db | string {
    const recovery = (spec.bootstrap as Obj | undefined)?.recovery as Obj | undefined;
    const source = replica ? ((spec.replica as Obj | undefined)?.source as string | undefined) : (recovery?.source as string | undefined);
    if (!replica && !recovery) return { systemId: String(7_400_000_000_000_000_000 + Math.floor(Math.random() * 1e15)), timeline: 1, lsn: 0x3000000, rows: [], recovering: false };
    const folder = this.externalFolder(spec, source);
    if (!folder) return `externalClusters has no barmanObjectStore named ${JSON.stringify(source)}`;
    const found = this.options.store.read(folder);
    const wantId = ((recovery?.recoveryTarget as Obj | undefined)?.backupID as string | undefined) ?? undefined;
    const backup = wantId ? found?.backups.find((b) => b.backupId === wantId) : found?.backups[found.backups.length - 1];
    if (!backup) return `no target backup found in ${folder}/${wantId ? ` (backupID ${wantId})` : ''}`;
    const wal = found?.wal && found.wal.systemId === backup.systemId && found.wal.lsn > backup.lsn ? found.wal : backup;
    const base: Position = wal;
    if (replica) return { systemId: base.systemId, timeline: base.timeline, lsn: base.lsn, rows: [...base.rows], recovering: true };
    return { systemId: base.systemId, timeline: base.timeline + 1, lsn: base.lsn + 0x100, rows: [...base.rows], recovering: false };
  }

  /**
   * The instance's WAL into its own folder. barman-cloud-check-wal-archive runs before a cluster's
   * first archive into a folder: a folder that already holds anything fails it.
   */
  private archive(obj: Obj, state: State, condition: (type: string, ok: boolean, reason: string, message: string) => void): void {
    const folder = this.ownFolder(obj);
    const db = state.db;
    if (!folder || !db) return;
    if (!state.archivedInto.has(folder)) {
      if (!this.options.store.isEmpty(folder)) {
        state.archiveError = `unexpected failure invoking barman-cloud-wal-archive: Expected empty archive (${folder}/ holds another system's or timeline's WAL)`;
        condition('ContinuousArchiving', false, 'ContinuousArchivingFailing', state.archiveError);
        return;
      }
      state.archivedInto.add(folder);
    }
    delete state.archiveError;
    condition('ContinuousArchiving', true, 'ContinuousArchivingSuccess', 'Continuous archiving is working');
    const compression = ((((obj.spec as Obj).backup as Obj | undefined)?.barmanObjectStore as Obj | undefined)?.wal as Obj | undefined)?.compression as string | undefined;
    this.options.store.archiveWal(folder, { systemId: db.systemId, timeline: db.timeline, lsn: db.lsn, rows: [...db.rows], at: now() }, compression);
  }

  private reconcileBackup(backup: Obj): void {
    const status = (backup.status ?? {}) as Obj;
    if (status.phase === 'completed' || status.phase === 'failed' || status.phase === 'walArchivingFailing') return;
    const ref = this.ref(backup, 'Backup');
    if (!status.phase) return this.api.writeStatus(ref, { phase: 'running', startedAt: now(), method: (backup.spec as Obj | undefined)?.method ?? 'barmanObjectStore' });
    const clusterName = ((backup.spec as Obj | undefined)?.cluster as Obj | undefined)?.name as string | undefined;
    const { obj, state } = this.lookup(ref.namespace!, clusterName ?? '');
    const fail = (error: string, phase = 'failed') => this.api.writeStatus(ref, { ...status, phase, error, stoppedAt: now() });
    if (!obj) return fail(`unknown cluster ${JSON.stringify(clusterName)}`);
    const folder = this.ownFolder(obj);
    if (!folder) return fail('no barmanObjectStore section defined on the target cluster');
    if (this.hibernated(obj) || !state?.db || state.step < 3) return fail('no ready instance to take the backup from');
    if (state.archiveError) return fail(`WAL archiving is failing: ${state.archiveError}`, 'walArchivingFailing');
    const at = new Date();
    const backupId = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '');
    const db = state.db;
    this.options.store.addBackup(folder, { backupId, systemId: db.systemId, timeline: db.timeline, lsn: db.lsn, rows: [...db.rows], at: at.toISOString() });
    const store = ((obj.spec as Obj).backup as Obj).barmanObjectStore as Obj;
    this.api.writeStatus(ref, {
      ...status,
      phase: 'completed',
      backupId,
      stoppedAt: now(),
      serverName: (store.serverName as string | undefined) ?? (obj.metadata as Obj).name,
      destinationPath: store.destinationPath,
      beginWal: walFile(db.timeline, db.lsn),
      endWal: walFile(db.timeline, db.lsn),
      beginLSN: lsnText(db.lsn),
      endLSN: lsnText(db.lsn),
      instanceID: { podName: `${(obj.metadata as Obj).name as string}-1` },
    });
  }

  private psql(pod: Obj, command: readonly string[]): { stdout: string; stderr?: string; exitCode: number } {
    const labels = ((pod.metadata as Obj).labels ?? {}) as Record<string, string>;
    const { state } = this.lookup((pod.metadata as Obj).namespace as string, labels['cnpg.io/cluster'] ?? '');
    if (command[0] !== 'psql') return { stdout: '', stderr: `exec: "${command[0] ?? ''}": executable file not found in $PATH`, exitCode: 126 };
    const query = command[command.indexOf('-c') + 1] ?? '';
    if (!state?.db) return { stdout: '', stderr: 'psql: error: connection to server on socket "/controller/run/.s.PGSQL.5432" failed: No such file or directory', exitCode: 2 };
    if (/^\s*SELECT pg_is_in_recovery\(\)\s*;?\s*$/i.test(query)) {
      const primary = labels['cnpg.io/instanceRole'] === 'primary';
      return { stdout: `${primary && !state.db.recovering ? 'f' : 't'}\n`, exitCode: 0 };
    }
    // A replica instance of a primary cluster replays its primary's stream: it is where the primary is.
    const recovering = state.db.recovering || labels['cnpg.io/instanceRole'] !== 'primary';
    if (/^\s*SELECT pg_current_wal_lsn\(\)\s*;?\s*$/i.test(query)) {
      if (recovering) return { stdout: '', stderr: 'ERROR:  recovery is in progress\nHINT:  WAL control functions cannot be executed during recovery.\n', exitCode: 1 };
      return { stdout: `${lsnText(state.db.lsn)}\n`, exitCode: 0 };
    }
    if (/^\s*SELECT pg_last_wal_replay_lsn\(\)\s*;?\s*$/i.test(query)) {
      const replayed = recovering ? state.db.lsn : state.db.replayedTo;
      return { stdout: `${replayed === undefined ? '' : lsnText(replayed)}\n`, exitCode: 0 };
    }
    // archive-freshness's one query: recovery, replay position, the checkpoint's timeline, wal_segment_size in bytes (16 MiB).
    if (/^\s*SELECT pg_is_in_recovery\(\), pg_last_wal_replay_lsn\(\), timeline_id, \(SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'\) FROM pg_control_checkpoint\(\)\s*;?\s*$/i.test(query)) {
      const replayed = recovering ? state.db.lsn : state.db.replayedTo;
      const inRecovery = labels['cnpg.io/instanceRole'] === 'primary' && !state.db.recovering ? 'f' : 't';
      return { stdout: `${inRecovery}|${replayed === undefined ? '' : lsnText(replayed)}|${state.db.timeline}|${WAL_SEGMENT_BYTES}\n`, exitCode: 0 };
    }
    return { stdout: '', stderr: `ERROR:  the e2e fake PostgreSQL answers only SELECT pg_is_in_recovery(), pg_current_wal_lsn(), pg_last_wal_replay_lsn() and archive-freshness's pg_control_checkpoint() query; got ${JSON.stringify(query)}`, exitCode: 1 };
  }
}
