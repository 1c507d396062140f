import { lsnValue, type WalFile } from './wal';

/** One line of a `<timeline>.history` file: the parent timeline and the LSN where its child forked off. */
export interface TimelineSwitch {
  readonly parent: number;
  readonly switchLsn: bigint;
}

/**
 * A PostgreSQL timeline history file (`<tli>\t<switch LSN>\t<reason>` per ancestor, oldest
 * first; `#` comments and blank lines ignored).
 */
export function parseHistory(text: string): TimelineSwitch[] {
  return text.split('\n').flatMap((line) => {
    const m = /^\s*(\d+)\s+([0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8})/.exec(line);
    return m ? [{ parent: Number(m[1]), switchLsn: lsnValue(m[2]!) }] : [];
  });
}

/** A segment's number counted from the start of WAL (log × segments per log + seg). */
export function segmentNumber(file: WalFile, segmentBytes: number): bigint {
  const perLog = 0x100000000n / BigInt(segmentBytes);
  return (file.position! >> 32n) * perLog + (file.position! & 0xffffffffn);
}

const hex8 = (n: bigint | number) => n.toString(16).toUpperCase().padStart(8, '0');
const segmentFileName = (timeline: number, segno: bigint, segmentBytes: number) => {
  const perLog = 0x100000000n / BigInt(segmentBytes);
  return `${hex8(timeline)}${hex8(segno / perLog)}${hex8(segno % perLog)}`;
};

export interface ChainInput<T> {
  /** The segment the replica replayed last, its timeline and the replay LSN. */
  readonly replayed: WalFile;
  readonly replayLsn: string;
  readonly segmentBytes: number;
  /** Segments archived after the replayed one (any timeline). */
  readonly pending: readonly (T & { readonly file: WalFile })[];
  /** History files present in the archive, by timeline, with their parsed content. */
  readonly histories: ReadonlyMap<number, readonly TimelineSwitch[]>;
}

export interface Chain<T> {
  /** The segments the replica can replay after the replayed one, in replay order. */
  readonly contiguous: readonly (T & { readonly file: WalFile })[];
  /** The first file the replica needs and the archive lacks, when archived segments lie beyond it; else undefined. */
  readonly missing?: string;
  /** Segments archived beyond the gap (what the replica cannot reach). */
  readonly unreachable: readonly (T & { readonly file: WalFile })[];
  /** The timeline the replica ends on. */
  readonly timeline: number;
  /** A newer timeline whose history the replica cannot follow (forked off before its replay point, or off another timeline). */
  readonly notFollowed?: number;
}

/**
 * What PostgreSQL replays from an archive (restore_command, recovery_target_timeline =
 * latest, CloudNativePG's setting): it looks for the newest timeline by probing
 * `<current+1>.history`, `<current+2>.history`, … until one is absent, and follows it only when
 * its history lists the replica's timeline with a switch point at or after the replay LSN (else
 * "not a child" / "forked off … before current recovery point": it stays). Then segment by
 * segment: each from the newest timeline of that path that began at or before it (the fork
 * segment from the new timeline). The first segment restore_command cannot fetch ends replay
 * there, whatever lies beyond it in the bucket.
 */
export function replayableChain<T>(input: ChainInput<T>): Chain<T> {
  const { replayed, segmentBytes, pending, histories } = input;
  const size = BigInt(segmentBytes);
  let newest = replayed.timeline;
  while (histories.has(newest + 1)) newest += 1;
  const replayLsn = lsnValue(input.replayLsn);
  // The path: [timeline, first segment it is read for], from the replica's timeline on.
  let path: { timeline: number; begins: bigint }[] = [{ timeline: replayed.timeline, begins: 0n }];
  let notFollowed: number | undefined = newest !== replayed.timeline ? newest : undefined;
  if (newest !== replayed.timeline) {
    const switches = histories.get(newest)!;
    const from = switches.findIndex((s) => s.parent === replayed.timeline);
    if (from >= 0 && switches[from]!.switchLsn >= replayLsn) {
      const later = switches.slice(from);
      path = later.map((s, i) => ({ timeline: s.parent, begins: i === 0 ? 0n : later[i - 1]!.switchLsn / size }));
      path.push({ timeline: newest, begins: later[later.length - 1]!.switchLsn / size });
      notFollowed = undefined;
    }
  }
  const onPath = new Set(path.map((p) => p.timeline));
  const byName = new Map(pending.map((w) => [w.file.name, w]));
  const last = path[path.length - 1]!.timeline;
  // Beyond the path's last timeline, or on it: what replay could still reach.
  const reachable = pending.filter((w) => w.file.timeline > last || (onPath.has(w.file.timeline) && !superseded(w.file)));
  function superseded(file: WalFile): boolean {
    const i = path.findIndex((p) => p.timeline === file.timeline);
    const next = path[i + 1];
    return next !== undefined && segmentNumber(file, segmentBytes) >= next.begins;
  }
  const end = reachable.reduce((m, w) => (segmentNumber(w.file, segmentBytes) > m ? segmentNumber(w.file, segmentBytes) : m), -1n);
  const contiguous: (T & { readonly file: WalFile })[] = [];
  let missing: string | undefined;
  let segno = segmentNumber(replayed, segmentBytes) + 1n;
  for (; segno <= end; segno++) {
    const timeline = [...path].reverse().find((p) => p.begins <= segno)!.timeline;
    const found = byName.get(segmentFileName(timeline, segno, segmentBytes));
    if (!found) {
      missing = segmentFileName(timeline, segno, segmentBytes);
      break;
    }
    contiguous.push(found);
  }
  const reached = new Set(contiguous.map((w) => w.file.name));
  const unreachable = reachable.filter((w) => !reached.has(w.file.name));
  // Segments on a timeline the replica will not switch to: its history file is what it lacks.
  if (!missing && unreachable.length > 0 && notFollowed === undefined) missing = `${hex8(last + 1)}.history`;
  const timeline = contiguous.length > 0 ? contiguous[contiguous.length - 1]!.file.timeline : replayed.timeline;
  return { contiguous, unreachable, timeline, ...(missing ? { missing } : {}), ...(notFollowed !== undefined && unreachable.length > 0 ? { notFollowed } : {}) };
}
