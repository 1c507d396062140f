import { existsSync, readdirSync, readFileSync } from 'node:fs';
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

describe('no app backup credentials', () => {
  it('the runbook that made an access key is gone and no runbook or script asks for one', () => {
    expect(existsSync(join(DOCS, 'runbooks', 'app-backup-credentials.md'))).toBe(false);
    for (const file of readdirSync(join(DOCS, 'runbooks'))) expect(readFileSync(join(DOCS, 'runbooks', file), 'utf8')).not.toMatch(/app-backup-credentials|create-access-key/);
    // fetch-bundle.py signs with the instance role's temporary keys from IMDS (the environment's only in tests): no stored key.
    const stub = readFileSync(join(__dirname, '..', 'scripts', 'fetch-bundle.py'), 'utf8');
    expect(stub).toContain('meta-data/iam/security-credentials/');
    expect(stub).not.toMatch(/backup.credentials/i);
    // etcd-restore.sh takes the restore role's session (sts assume-role, an hour at most) and hands it to the calls that read snapshots: those two places only.
    const restoreSession = [
      "--query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]'",
      'as_restore_role() { AWS_ACCESS_KEY_ID=$RESTORE_KEY_ID AWS_SECRET_ACCESS_KEY=$RESTORE_SECRET AWS_SESSION_TOKEN=$RESTORE_TOKEN "$@"; }',
    ];
    const restore = readFileSync(join(__dirname, '..', 'scripts', 'etcd-restore.sh'), 'utf8');
    for (const text of restoreSession) expect(restore).toContain(text);
    for (const file of readdirSync(join(__dirname, '..', 'scripts')).filter((f) => f !== 'fetch-bundle.py')) {
      const script = restoreSession.reduce((t, allowed) => t.replace(allowed, ''), readFileSync(join(__dirname, '..', 'scripts', file), 'utf8'));
      expect(script).not.toMatch(/backup.credentials|accessKeyId|AWS_SECRET_ACCESS_KEY/i);
    }
  });
});
