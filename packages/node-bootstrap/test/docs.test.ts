import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { failoverTimings } from '../src';
import { platform } from './harness';

const DOCS = join(__dirname, '..', '..', '..', 'docs');

describe('docs/bootstrap-timings.md', () => {
  const text = readFileSync(join(DOCS, 'bootstrap-timings.md'), 'utf8');

  it.each(platform.clusters.map((c) => [c.name, c] as const))('has the computed row for %s', (name, cluster) => {
    const t = failoverTimings(cluster);
    const row = [
      name,
      cluster.objectives.appRtoSeconds,
      t.nodeStatusUpdateFrequencySeconds,
      t.nodeLeaseDurationSeconds,
      t.nodeMonitorGracePeriodSeconds,
      t.nodeMonitorPeriodSeconds,
      t.unreachableTolerationSeconds,
      t.detectionSeconds,
      t.evictionSeconds,
      t.podRecoverySeconds,
    ].map((v, i) => (i === 0 ? v : `${v} s`));
    expect(text).toContain(`| ${row.join(' | ')} |`);
  });
});

describe('runbooks', () => {
  it.each(['etcd-restore.md', 'az-outage.md', 'control-plane-replacement.md'])('%s exists and names the scripts it relies on', (file) => {
    const text = readFileSync(join(DOCS, 'runbooks', file), 'utf8');
    expect(text.length).toBeGreaterThan(500);
    expect(text).toMatch(/journalctl|etcd-restore\.sh/);
  });
});

describe('docs/runbooks/app-backup-credentials.md', () => {
  const text = readFileSync(join(DOCS, 'runbooks', 'app-backup-credentials.md'), 'utf8');

  it.each(['production', 'dr'])('names %s\'s derived IAM user, parameter, key alias and Secret', (cluster) => {
    const names = platform.namesOf(cluster);
    for (const value of [names.appBackupCredentials.iamUser, names.appBackupCredentials.ssmParameter, names.kmsAlias, `${names.appBackupCredentials.namespace}/${names.appBackupCredentials.secretName}`, names.appBackupBucket]) {
      expect(text).toContain(value);
    }
  });

  it('names the standby\'s restore source and the step the script offers', () => {
    expect(text).toContain(platform.namesOf('production').appBackupReplicaBucket as string);
    expect(text).toContain('install-addons.sh backup-credentials');
    expect(readFileSync(join(__dirname, '..', 'scripts', 'install-addons.sh'), 'utf8')).toContain('== backup-credentials ]]');
  });

  it('is linked from the region failover runbook', () => {
    expect(readFileSync(join(DOCS, 'runbooks', 'region-failover.md'), 'utf8')).toContain('(app-backup-credentials.md)');
  });
});
