import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeKubeApi } from '../src/fake-kube-api';

// The real kubectl against the fake: the answers the failover tool's reads depend on.
const exec = promisify(execFile);

describe('FakeKubeApi answers kubectl as an API server does', () => {
  const work = mkdtempSync(join(tmpdir(), 'fake-kube-'));
  let api: FakeKubeApi;
  const kubectl = async (...args: string[]) => {
    try {
      const { stdout } = await exec('kubectl', ['--context', 'dr', ...args], { env: { ...process.env, KUBECONFIG: join(work, 'config'), KUBECACHEDIR: join(work, 'cache') }, timeout: 30_000 });
      return { code: 0, stdout, stderr: '' };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  beforeAll(async () => {
    api = await FakeKubeApi.start('dr', [
      { apiVersion: 'postgresql.cnpg.io/v1', kind: 'Backup', metadata: { name: 'fenced-1', namespace: 'data', labels: { 'hakube.io/purpose': 'fenced' } }, spec: { cluster: { name: 'orders' } } },
      { apiVersion: 'postgresql.cnpg.io/v1', kind: 'Backup', metadata: { name: 'daily-1', namespace: 'data', labels: { 'hakube.io/purpose': 'scheduled' } }, spec: { cluster: { name: 'orders' } } },
    ]);
    writeFileSync(join(work, 'config'), api.kubeconfig());
  });
  afterAll(async () => {
    await api.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('answers /readyz with ok', async () => {
    expect((await kubectl('get', '--raw=/readyz')).stdout).toBe('ok');
  });

  it('a missing object is NotFound, and --ignore-not-found prints nothing', async () => {
    const missing = await kubectl('get', 'clusters.postgresql.cnpg.io', 'orders', '-n', 'data', '-o', 'json');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('(NotFound): clusters.postgresql.cnpg.io "orders" not found');
    expect(await kubectl('get', 'clusters.postgresql.cnpg.io', 'orders', '-n', 'data', '--ignore-not-found', '-o', 'name')).toMatchObject({ code: 0, stdout: '' });
  });

  it('lists by label selector, with resourceVersions', async () => {
    const list = JSON.parse((await kubectl('get', 'backups.postgresql.cnpg.io', '-n', 'data', '-l', 'hakube.io/purpose=fenced', '-o', 'json')).stdout) as { items: { metadata: { name: string; resourceVersion: string } }[] };
    expect(list.items.map((i) => i.metadata.name)).toEqual(['fenced-1']);
    expect(Number(list.items[0]!.metadata.resourceVersion)).toBeGreaterThan(0);
  });

  it('refuses every write', async () => {
    api.put({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'web' }, spec: { replicas: 2 } });
    const patched = await kubectl('patch', 'deployment', 'web', '-n', 'web', '--type', 'merge', '-p', '{"spec":{"replicas":0}}');
    expect(patched.code).toBe(1);
    expect(patched.stderr).toContain('read-only');
    expect(api.requests.some((r) => r.startsWith('PATCH /apis/apps/v1/namespaces/web/deployments/web'))).toBe(true);
  });
});
