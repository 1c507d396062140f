/**
 * What barman-cloud keeps in S3 for one server folder (`<destinationPath>/<serverName>/`), as
 * the fake CloudNativePG writes and reads it: base backups (each a snapshot of the database at
 * its end) and the archived WAL (here: the newest position and the rows it carries). Shared by
 * both clusters' fake APIs, with S3 Cross-Region Replication of whole buckets (the primary's
 * backup bucket into its replica bucket) applied on every write, as `replicate` declares.
 * The state lives here; each WAL segment a folder receives is also announced as the S3 object
 * barman-cloud-wal-archive would write (`onWalObject`), which the e2e run puts into moto's S3, so
 * the failover tool's archive-freshness lists real objects.
 */
export interface Row {
  readonly item: string;
}

export interface Position {
  /** PostgreSQL's database system identifier: a folder holds one system's WAL. */
  readonly systemId: string;
  readonly timeline: number;
  /** A monotonically growing WAL position (bytes). */
  readonly lsn: number;
  readonly rows: readonly Row[];
  readonly at: string;
}

export interface BaseBackup extends Position {
  readonly backupId: string;
}

export interface Folder {
  readonly backups: BaseBackup[];
  /** The newest archived WAL, undefined while the folder holds none. */
  wal?: Position;
}

/** An object barman-cloud-wal-archive writes: `<destinationPath>/<serverName>/wals/<timeline+log>/<segment>[.gz]`. */
export interface WalObject {
  readonly bucket: string;
  readonly key: string;
}

/** barman-cloud's file suffix per `wal.compression`. */
const COMPRESSION_SUFFIX: Readonly<Record<string, string>> = { gzip: '.gz', bzip2: '.bz2', snappy: '.snappy', lz4: '.lz4', xz: '.xz', zstd: '.zst' };

/** PostgreSQL's default wal_segment_size (16 MiB), which the fake uses throughout. */
export const WAL_SEGMENT_BYTES = 16 * 1024 * 1024;
const hex8 = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');

/**
 * The WAL segment file holding the record that ends at `lsn` (PostgreSQL's XLogFileName for the
 * segment of byte lsn - 1: the LSN points just past the last record), 16 MiB segments.
 */
export function walSegmentName(timeline: number, lsn: number): string {
  const segno = Math.floor(Math.max(lsn - 1, 0) / WAL_SEGMENT_BYTES);
  const perLog = 2 ** 32 / WAL_SEGMENT_BYTES;
  return `${hex8(timeline)}${hex8(Math.floor(segno / perLog))}${hex8(segno % perLog)}`;
}

/** The object key of a segment under a folder (`s3://bucket/path/server`), as barman-cloud names it. */
export function walObject(folder: string, segment: string, compression?: string): WalObject {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(folder);
  if (!m) throw new Error(`barman folder ${JSON.stringify(folder)} is not s3://<bucket>/<path>`);
  return { bucket: m[1]!, key: `${m[2]}/wals/${segment.slice(0, 16)}/${segment}${compression ? (COMPRESSION_SUFFIX[compression] ?? '') : ''}` };
}

/**
 * The objects barman-cloud-backup writes for one base backup under a folder:
 * `<path>/<server>/base/<backupId>/backup.info` and its data tarball (what the failover tool's
 * fail-back preflight lists under `base/`).
 */
export function baseBackupObjects(folder: string, backupId: string): WalObject[] {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(folder);
  if (!m) throw new Error(`barman folder ${JSON.stringify(folder)} is not s3://<bucket>/<path>`);
  return ['data.tar', 'backup.info'].map((file) => ({ bucket: m[1]!, key: `${m[2]}/base/${backupId}/${file}` }));
}

export class BarmanStore {
  private readonly folders = new Map<string, Folder>();
  private readonly replication: { from: string; to: string }[] = [];
  private readonly announced = new Set<string>();
  /** Called once per object a folder (a replicated one too) receives: WAL segments and base backups' files. */
  onWalObject?: (object: WalObject) => void;

  /** S3 replication of bucket `from` into bucket `to` (CRR, every new object). */
  replicate(from: string, to: string): void {
    this.replication.push({ from, to });
  }

  static folderOf(destinationPath: string, serverName: string): string {
    return `${destinationPath.replace(/\/+$/, '')}/${serverName}`;
  }

  read(folder: string): Folder | undefined {
    const f = this.folders.get(folder);
    return f && { backups: [...f.backups], wal: f.wal };
  }

  /** Whether the folder holds anything (barman-cloud-check-wal-archive refuses a used one for a new system or timeline lineage). */
  isEmpty(folder: string): boolean {
    const f = this.folders.get(folder);
    return !f || (f.backups.length === 0 && !f.wal);
  }

  archiveWal(folder: string, position: Position, compression?: string): void {
    for (const target of this.targets(folder)) {
      const f = this.folder(target);
      if (!f.wal || f.wal.lsn <= position.lsn) f.wal = position;
      // Announced once a listener takes it; an archive before that is announced on the next tick's archive.
      this.announce(walObject(target, walSegmentName(position.timeline, position.lsn), compression));
    }
  }

  addBackup(folder: string, backup: BaseBackup): void {
    for (const target of this.targets(folder)) {
      this.folder(target).backups.push(backup);
      for (const object of baseBackupObjects(target, backup.backupId)) this.announce(object);
    }
  }

  private announce(object: WalObject): void {
    const id = `${object.bucket}/${object.key}`;
    if (this.onWalObject && !this.announced.has(id)) {
      this.announced.add(id);
      this.onWalObject(object);
    }
  }

  private folder(key: string): Folder {
    let f = this.folders.get(key);
    if (!f) this.folders.set(key, (f = { backups: [] }));
    return f;
  }

  private targets(folder: string): string[] {
    const out = [folder];
    for (const r of this.replication) {
      const prefix = `s3://${r.from}/`;
      if (folder.startsWith(prefix)) out.push(`s3://${r.to}/${folder.slice(prefix.length)}`);
    }
    return out;
  }
}
