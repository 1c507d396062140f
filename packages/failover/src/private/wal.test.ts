import { describe, expect, it } from 'vitest';
import { after, parseWalKey, segmentOfLsn, walKey } from './wal';

const MiB16 = 16 * 1024 * 1024;

describe('WAL names (PostgreSQL, as barman-cloud stores them)', () => {
  it('maps a replay LSN to the segment holding it; exactly on a boundary, the segment before', () => {
    expect(segmentOfLsn('0/14000060', 1, MiB16)).toBe('000000010000000000000014');
    expect(segmentOfLsn('0/15000000', 1, MiB16)).toBe('000000010000000000000014');
    // 256 segments of 16 MiB per 4 GiB log: 1/0 ends segment FF of log 0.
    expect(segmentOfLsn('1/0', 2, MiB16)).toBe('0000000200000000000000FF');
    expect(segmentOfLsn('A/FF000028', 3, MiB16)).toBe('000000030000000A000000FF');
    // 1 GiB segments: 4 per log.
    expect(segmentOfLsn('2/80000000', 1, 1024 * MiB16 / 16)).toBe('000000010000000200000001');
    expect(() => segmentOfLsn('nonsense', 1, MiB16)).toThrow('LSN "nonsense": expected X/Y in hex');
  });

  it('reads segment, .partial, .backup and .history keys with a compression suffix; ignores anything else', () => {
    expect(parseWalKey('p/orders/wals/0000000100000000/000000010000000000000014.gz')).toMatchObject({ kind: 'segment', name: '000000010000000000000014', timeline: 1 });
    expect(parseWalKey('p/orders/wals/0000000100000000/000000010000000000000014.partial')).toMatchObject({ kind: 'partial', timeline: 1 });
    expect(parseWalKey('p/orders/wals/0000000100000000/000000010000000000000014.00000028.backup.gz')).toMatchObject({ kind: 'backup' });
    expect(parseWalKey('p/orders/wals/00000002.history.gz')).toEqual({ kind: 'history', name: '00000002.history', timeline: 2 });
    expect(parseWalKey('p/orders/base/20260101T030000/data.tar.gz')).toBeUndefined();
  });

  it('orders by timeline first, then position; keys follow barman-cloud\'s layout', () => {
    const a = parseWalKey('000000010000000A000000FF')!;
    const b = parseWalKey('000000020000000000000001')!;
    expect(after(b, a)).toBe(true);
    expect(after(parseWalKey('000000010000000B00000000')!, a)).toBe(true);
    expect(walKey('p/orders/', '000000010000000A000000FF')).toBe('p/orders/wals/000000010000000A/000000010000000A000000FF');
    expect(walKey('p/orders/', '00000002.history')).toBe('p/orders/wals/00000002.history');
  });
});
