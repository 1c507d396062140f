import { bootstrapNames } from '@platform/platform-config';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { callsOf, FakeNode, inputFor, platform, RESTORE_ROLE_ARN, restoreRoleRules, ssmStore, storedParameter, type Rule } from './harness';

/*
 * The join material's whole life against Parameter Store's real semantics (harness ssmStore,
 * one store shared by the nodes of one account): nothing exists until the initialiser
 * publishes, so joiners wait on ParameterNotFound; publishing creates SecureStrings under the
 * cluster key; a refresh overwrites them (new versions); a restore request deletes them.
 * Terraform is not in this story any more: it neither creates nor rewrites them.
 */

const names = platform.namesOf('production');
const JOIN = [names.ssm.certificateKey, names.ssm.caCertHash, names.ssm.joinToken];
const NOW = Date.UTC(2025, 5, 30, 12) / 1000;
const kubeadm = (key: string, token: string): Rule[] => [
  { cmd: 'kubeadm', args: 'certs certificate-key', stdout: `${key}\n` },
  { cmd: 'kubeadm', args: 'token create *', stdout: `kubeadm join x:6443 --token ${token} --discovery-token-ca-cert-hash sha256:c0ffee\n` },
];

const cleanup: string[] = [];
afterEach(() => cleanup.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const account = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ssm-account-'));
  cleanup.push(dir);
  return dir;
};
const fakeNode = (role: 'control-plane' | 'worker', rules: Rule[]) => {
  const n = new FakeNode(inputFor('production', role), rules);
  cleanup.push(n.root);
  return n;
};

describe('join material in Parameter Store: created by the initialiser, refreshed by the nodes, deleted by a restore', () => {
  it('keeps a worker waiting until the initialiser publishes, then joins it with what was published', () => {
    const ssm = account();
    const worker = fakeNode('worker', ssmStore(ssm));
    const early = worker.run('worker.sh', [], { JOIN_WAIT_ATTEMPTS: '2' });
    expect(early.status).toBe(1);
    expect(early.stderr).toContain(`no join material in ${names.ssm.joinToken} after 2 attempts`);
    expect(JOIN.map((name) => storedParameter(ssm, name))).toEqual([undefined, undefined, undefined]);

    const initialiser = fakeNode('control-plane', [...ssmStore(ssm), ...kubeadm('a'.repeat(64), 'abcdef.0123456789abcdef')]);
    writeFileSync(join(initialiser.kube, 'admin.conf'), '');
    const published = initialiser.run('join-material.sh', ['publish']);
    expect(published.status, published.stderr).toBe(0);
    // Created (version 1) as SecureStrings under the cluster key, the one identifier every writer uses.
    expect(JOIN.map((name) => storedParameter(ssm, name))).toEqual([
      { value: 'a'.repeat(64), type: 'SecureString', keyId: names.kmsAlias, version: 1 },
      { value: 'sha256:c0ffee', type: 'SecureString', keyId: names.kmsAlias, version: 1 },
      { value: 'abcdef.0123456789abcdef', type: 'SecureString', keyId: names.kmsAlias, version: 1 },
    ]);
    // The refresh lock was created once and released.
    expect(storedParameter(ssm, `${names.ssmPrefix}/kubeadm/join-refresh-lock`)).toBeUndefined();

    const joined = worker.run('worker.sh');
    expect(joined.status, joined.stderr).toBe(0);
    expect(readFileSync(join(worker.state, 'kubeadm-join.yaml'), 'utf8')).toContain(`token: 'abcdef.0123456789abcdef'`);
  });

  it('refreshes old material as new versions of the same parameters, and a restore request deletes it so joiners wait again', () => {
    const ssm = account();
    const first = fakeNode('control-plane', [...ssmStore(ssm), ...kubeadm('a'.repeat(64), 'abcdef.0123456789abcdef')]);
    writeFileSync(join(first.kube, 'admin.conf'), '');
    expect(first.run('join-material.sh', ['publish']).status).toBe(0);

    // Two hours on (past JOIN_REFRESH_AFTER_SECONDS), another control-plane node's timer refreshes.
    const second = fakeNode('control-plane', [...ssmStore(ssm), ...kubeadm('c'.repeat(64), 'zyxwvu.0123456789abcdef')]);
    writeFileSync(join(second.kube, 'admin.conf'), '');
    const refreshed = second.run('join-material.sh', ['refresh'], { BOOTSTRAP_NOW_EPOCH: String(NOW + 7200) });
    expect(refreshed.status, refreshed.stderr).toBe(0);
    expect(JOIN.map((name) => storedParameter(ssm, name)?.version)).toEqual([2, 2, 2]);
    expect(storedParameter(ssm, names.ssm.joinToken)?.value).toBe('zyxwvu.0123456789abcdef');
    // Right after, the material is fresh: nothing is written.
    const again = second.run('join-material.sh', ['refresh'], { BOOTSTRAP_NOW_EPOCH: String(NOW + 7300) });
    expect(again.status, again.stderr).toBe(0);
    expect(callsOf(again.calls, 'kubeadm')).toEqual([]);

    const operator = fakeNode('control-plane', [...ssmStore(ssm), ...restoreRoleRules('etcd-snapshots/production/etcd-production-20250630T114500Z.tar.gz')]);
    const requested = operator.run('etcd-restore.sh', ['request', 'latest'], { RESTORE_ROLE_ARN });
    expect(requested.status, requested.stderr).toBe(0);
    expect(JOIN.map((name) => storedParameter(ssm, name))).toEqual([undefined, undefined, undefined]);
    // B1: the old cluster's nodes still run until the operator replaces them; their timer finds the
    // material absent and must not put the old cluster's back, nor may a publish.
    const timer = second.run('join-material.sh', ['refresh'], { BOOTSTRAP_NOW_EPOCH: String(NOW + 7400) });
    expect(timer.status, timer.stderr).toBe(0);
    expect(timer.stderr).toContain(`a restore is requested (${bootstrapNames(names).restoreFrom}): this cluster's join material stays deleted`);
    const publish = second.run('join-material.sh', ['publish'], { BOOTSTRAP_NOW_EPOCH: String(NOW + 7400) });
    expect(publish.status).toBe(1);
    expect(publish.stderr).toContain('not publishing this cluster\'s join material');
    expect(callsOf([...timer.calls, ...publish.calls], 'kubeadm')).toEqual([]);
    expect(JOIN.map((name) => storedParameter(ssm, name))).toEqual([undefined, undefined, undefined]);
    const worker = fakeNode('worker', ssmStore(ssm));
    const waiting = worker.run('worker.sh', [], { JOIN_WAIT_ATTEMPTS: '1' });
    expect(waiting.status).toBe(1);
    expect(callsOf(waiting.calls, 'kubeadm')).toEqual([]);
  });

  it('answers like SSM: a create of an existing name fails with ParameterAlreadyExists, a read of a SecureString without decryption is ciphertext', () => {
    const ssm = account();
    const n = fakeNode('control-plane', ssmStore(ssm));
    const script = join(n.root, 'probe.sh');
    writeFileSync(
      script,
      [
        'set -u',
        'aws ssm put-parameter --region r --name /x/lock --value a --type String >/dev/null; echo "first=$?"',
        'aws ssm put-parameter --region r --name /x/lock --value b --type String 2>&1 >/dev/null; echo "second=$?"',
        'aws ssm put-parameter --region r --name /x/lock --value c --type String --overwrite',
        'aws ssm put-parameter --region r --name /x/secret --value s3cr3t --type SecureString >/dev/null',
        'aws ssm get-parameter --region r --name /x/secret --query Parameter.Value --output text',
        'aws ssm delete-parameter --region r --name /x/gone 2>&1; echo "delete=$?"',
      ].join('\n'),
    );
    const result = n.run('../probe.sh');
    expect(result.stdout).toContain('first=0');
    expect(result.stdout).toMatch(/An error occurred \(ParameterAlreadyExists\)[^\n]*\nsecond=254/);
    expect(result.stdout).toContain('{"Version": 2, "Tier": "Standard"}');
    expect(result.stdout).not.toContain('s3cr3t');
    expect(result.stdout).toMatch(/An error occurred \(ParameterNotFound\)[^\n]*\ndelete=254/);
    expect(storedParameter(ssm, '/x/lock')).toEqual({ value: 'c', type: 'String', keyId: '', version: 2 });
    expect(storedParameter(ssm, '/x/secret')?.keyId).toBe('alias/aws/ssm');
  });
});
