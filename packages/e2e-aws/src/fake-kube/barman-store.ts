/**
 * What barman-cloud keeps in S3 for one server folder (`<destinationPath>/<serverName>/`), as
 * the fake CloudNativePG writes and reads it: base backups (each a snapshot of the database at
 * its end) and the archived WAL (here: the newest position and the rows it carries). Shared by
 * both clusters' fake APIs, with S3 Cross-Region Replication of whole buckets (the primary's
 * backup bucket into its replica bucket) applied on every write, as `replicate` declares.
 * Not moto: nothing here is an S3 object the AWS CLI can list (archive-freshness is not run).
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

export class BarmanStore {
  private readonly folders = new Map<string, Folder>();
  private readonly replication: { from: string; to: string }[] = [];

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

  archiveWal(folder: string, position: Position): void {
    for (const target of this.targets(folder)) {
      const f = this.folder(target);
      if (!f.wal || f.wal.lsn <= position.lsn) f.wal = position;
    }
  }

  addBackup(folder: string, backup: BaseBackup): void {
    for (const target of this.targets(folder)) this.folder(target).backups.push(backup);
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
