/**
 * PostgreSQL WAL file names as barman-cloud stores them: a segment is timeline, log and segment
 * number, 8 upper-case hex digits each (`000000010000000A000000FF`); a `.partial` segment is the
 * unfinished last one of a timeline that was promoted away from; `<segment>.<offset>.backup` is
 * a base backup's label; `<timeline>.history` starts a timeline. Objects may carry a compression
 * suffix (`.gz`, …). barman-cloud puts every file but a history file under a directory named
 * after its first 16 digits (`wals/0000000100000000/…`), history files straight in `wals/`.
 */
export type WalKind = 'segment' | 'partial' | 'backup' | 'history';

export interface WalFile {
  readonly kind: WalKind;
  /** The WAL name without compression suffix. */
  readonly name: string;
  readonly timeline: number;
  /** Segment position (log × segments per log + seg), for ordering; history files: none. */
  readonly position?: bigint;
}

const COMPRESSION = /\.(gz|bz2|xz|snappy|lz4|zst)$/;
const SEGMENT = /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})(\.partial|\.[0-9A-F]{8}\.backup)?$/;
const HISTORY = /^([0-9A-F]{8})\.history$/;

/** The WAL file an object key names, or undefined for anything else (base backups, stray keys). */
export function parseWalKey(key: string): WalFile | undefined {
  const name = (key.split('/').pop() ?? '').replace(COMPRESSION, '');
  const history = HISTORY.exec(name);
  if (history) return { kind: 'history', name, timeline: parseInt(history[1]!, 16) };
  const seg = SEGMENT.exec(name);
  if (!seg) return undefined;
  const kind: WalKind = seg[4] === '.partial' ? 'partial' : seg[4] ? 'backup' : 'segment';
  // Position in units of segments within a log of 2^32 bytes: log and seg as the name gives them.
  return { kind, name, timeline: parseInt(seg[1]!, 16), position: (BigInt(parseInt(seg[2]!, 16)) << 32n) + BigInt(parseInt(seg[3]!, 16)) };
}

const hex8 = (n: bigint | number) => n.toString(16).toUpperCase().padStart(8, '0');

/**
 * The segment holding the last replayed record, from `pg_last_wal_replay_lsn()` (`X/Y`), the
 * timeline and `wal_segment_size` in bytes. The LSN points just past the last record: exactly on
 * a segment boundary it means the previous segment was replayed to its end.
 */
export function segmentOfLsn(lsn: string, timeline: number, segmentBytes: number): string {
  const size = BigInt(segmentBytes);
  const value = lsnValue(lsn);
  const segno = value > 0n && value % size === 0n ? value / size - 1n : value / size;
  const perLog = 0x100000000n / size;
  return `${hex8(timeline)}${hex8(segno / perLog)}${hex8(segno % perLog)}`;
}

/** An LSN (`X/Y`, hex) as a byte position. */
export function lsnValue(lsn: string): bigint {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn.trim());
  if (!match) throw new Error(`LSN ${JSON.stringify(lsn)}: expected X/Y in hex`);
  return (BigInt(parseInt(match[1]!, 16)) << 32n) + BigInt(parseInt(match[2]!, 16));
}

/** Where barman-cloud keeps `name` below a server folder (`<prefix><server>/`). */
export function walKey(serverFolder: string, name: string): string {
  return HISTORY.test(name) ? `${serverFolder}wals/${name}` : `${serverFolder}wals/${name.slice(0, 16)}/${name}`;
}

/** Whether segment file `a` comes after `b` in replay order (later timeline, or same timeline and later position). */
export function after(a: WalFile, b: WalFile): boolean {
  if (a.timeline !== b.timeline) return a.timeline > b.timeline;
  return (a.position ?? 0n) > (b.position ?? 0n);
}
