import { describe, expect, it } from 'vitest';
import { parseWalKey } from './wal';
import { parseHistory, replayableChain } from './wal-chain';

const SEGMENT = 16 * 1024 * 1024;
const name = (tli: number, segno: number) => `${tli.toString(16).toUpperCase().padStart(8, '0')}${Math.floor(segno / 256).toString(16).toUpperCase().padStart(8, '0')}${(segno % 256).toString(16).toUpperCase().padStart(8, '0')}`;
const wal = (tli: number, segno: number) => ({ file: parseWalKey(`wals/${name(tli, segno).slice(0, 16)}/${name(tli, segno)}.gz`)! });

describe('replayableChain (PostgreSQL archive recovery, recovery_target_timeline = latest)', () => {
  const replayed = parseWalKey(name(1, 0x13))!;

  it('crosses a log boundary: 0x0FF is followed by 0x100 (000000010000000100000000)', () => {
    const chain = replayableChain({ replayed: parseWalKey(name(1, 0xfe))!, replayLsn: '0/FE000060', segmentBytes: SEGMENT, pending: [wal(1, 0xff), wal(1, 0x100)], histories: new Map() });
    expect(chain.contiguous.map((w) => w.file.name)).toEqual(['0000000100000000000000FF', '000000010000000100000000']);
    expect(chain.missing).toBeUndefined();
  });

  it('stops at the first missing segment, whatever lies beyond', () => {
    const chain = replayableChain({ replayed, replayLsn: '0/13000060', segmentBytes: SEGMENT, pending: [wal(1, 0x15), wal(1, 0x16)], histories: new Map() });
    expect(chain.contiguous).toEqual([]);
    expect(chain.missing).toBe('000000010000000000000014');
    expect(chain.unreachable).toHaveLength(2);
  });

  it('follows a newer timeline from its fork segment (read from the new timeline), the old one up to it', () => {
    const histories = new Map([[2, parseHistory('1\t0/160000A0\tno recovery target specified\n')]]);
    const pending = [wal(1, 0x14), wal(1, 0x15), wal(1, 0x16), wal(1, 0x17), wal(2, 0x16), wal(2, 0x17)];
    const chain = replayableChain({ replayed, replayLsn: '0/13000060', segmentBytes: SEGMENT, pending, histories });
    expect(chain.contiguous.map((w) => w.file.name)).toEqual([name(1, 0x14), name(1, 0x15), name(2, 0x16), name(2, 0x17)]);
    expect(chain.timeline).toBe(2);
    expect(chain.missing).toBeUndefined();
  });

  it('names the history file when segments of a newer timeline lie beyond it without one', () => {
    const chain = replayableChain({ replayed, replayLsn: '0/13000060', segmentBytes: SEGMENT, pending: [wal(2, 0x16)], histories: new Map() });
    expect(chain.missing).toBe('000000010000000000000014');
    const whole = replayableChain({ replayed, replayLsn: '0/13000060', segmentBytes: SEGMENT, pending: [wal(1, 0x14), wal(1, 0x15), wal(1, 0x16), wal(2, 0x16)], histories: new Map() });
    expect(whole.missing).toBe('00000002.history');
  });

  it('does not follow a timeline that forked off before the replay point', () => {
    const histories = new Map([[2, parseHistory('1\t0/12000000\tno recovery target specified\n')]]);
    const chain = replayableChain({ replayed, replayLsn: '0/13000060', segmentBytes: SEGMENT, pending: [wal(2, 0x14)], histories });
    expect(chain.notFollowed).toBe(2);
    expect(chain.contiguous).toEqual([]);
  });
});
