import { describe, expect, it } from 'vitest';
import { BarmanStore, walObject, walSegmentName, type WalObject } from '../src/fake-kube/barman-store';

const MiB16 = 16 * 1024 * 1024;
const position = (lsn: number, timeline = 1) => ({ systemId: '7400', timeline, lsn, rows: [], at: '2026-12-05T10:00:00Z' });

describe('the fake barman store as S3 objects', () => {
  it('names the segment holding the last record (the LSN points just past it), 16 MiB segments, log and segment in the name', () => {
    expect(walSegmentName(1, 0x3000100)).toBe('000000010000000000000003');
    // Exactly on a boundary: the previous segment was written to its end.
    expect(walSegmentName(1, 3 * MiB16)).toBe('000000010000000000000002');
    expect(walSegmentName(2, 2 ** 32 + 0x100)).toBe('000000020000000100000000');
  });

  it("keys objects as barman-cloud does: <destinationPath>/<serverName>/wals/<timeline+log>/<segment>.gz", () => {
    expect(walObject('s3://hakube-production-app-backups-ap-northeast-2/postgres/orders/orders', '000000010000000000000003', 'gzip')).toEqual({
      bucket: 'hakube-production-app-backups-ap-northeast-2',
      key: 'postgres/orders/orders/wals/0000000100000000/000000010000000000000003.gz',
    });
    expect(walObject('s3://b/p/s', '000000010000000000000003').key).toBe('p/s/wals/0000000100000000/000000010000000000000003');
  });

  it("announces a base backup's files under <folder>/base/<backupId>/ once, replicated too (the fail-back preflight lists them)", () => {
    const store = new BarmanStore();
    store.replicate('a', 'b');
    const seen: WalObject[] = [];
    store.onWalObject = (o) => void seen.push(o);
    const backup = { ...position(0x1000100), backupId: '20261205T100000' };
    store.addBackup('s3://a/postgres/orders/orders', backup);
    store.addBackup('s3://a/postgres/orders/orders', backup);
    expect(seen).toEqual([
      { bucket: 'a', key: 'postgres/orders/orders/base/20261205T100000/data.tar' },
      { bucket: 'a', key: 'postgres/orders/orders/base/20261205T100000/backup.info' },
      { bucket: 'b', key: 'postgres/orders/orders/base/20261205T100000/data.tar' },
      { bucket: 'b', key: 'postgres/orders/orders/base/20261205T100000/backup.info' },
    ]);
  });

  it('announces each new segment once, in the source folder and in every replicated bucket', () => {
    const store = new BarmanStore();
    store.replicate('primary-bucket', 'replica-bucket');
    const seen: WalObject[] = [];
    store.archiveWal('s3://primary-bucket/postgres/orders/orders', position(0x3000100), 'gzip');
    store.onWalObject = (o) => seen.push(o);
    // Archived every tick at the same position: one object per folder; a new segment: one more each.
    for (let i = 0; i < 3; i++) store.archiveWal('s3://primary-bucket/postgres/orders/orders', position(0x3000100), 'gzip');
    store.archiveWal('s3://primary-bucket/postgres/orders/orders', position(0x4000100), 'gzip');
    expect(seen.map((o) => `${o.bucket}/${o.key}`)).toEqual([
      'primary-bucket/postgres/orders/orders/wals/0000000100000000/000000010000000000000003.gz',
      'replica-bucket/postgres/orders/orders/wals/0000000100000000/000000010000000000000003.gz',
      'primary-bucket/postgres/orders/orders/wals/0000000100000000/000000010000000000000004.gz',
      'replica-bucket/postgres/orders/orders/wals/0000000100000000/000000010000000000000004.gz',
    ]);
  });
});
