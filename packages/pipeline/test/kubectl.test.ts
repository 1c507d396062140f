import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { kubectl } from '../src/io/kubectl';

/** A kubectl stand-in on PATH: records its argv and stdin, answers `get` with JSON and fails on a missing object as kubectl does (exit 1, NotFound on stderr). */
describe('kubectl client (exec, no shell)', () => {
  let dir: string;
  let path: string | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kubectl-'));
    const script = `#!/bin/sh
printf '%s\\n' "$@" > "${dir}/args"
cat > "${dir}/stdin"
case " $* " in
  *" missing "*) echo 'Error from server (NotFound): horizontalpodautoscalers.autoscaling "missing" not found' >&2; exit 1 ;;
  *" get "*) echo '{"kind":"HorizontalPodAutoscaler","status":{"currentReplicas":3}}' ;;
esac
`;
    writeFileSync(join(dir, 'kubectl'), script);
    chmodSync(join(dir, 'kubectl'), 0o755);
    path = process.env.PATH;
    process.env.PATH = `${dir}:${path ?? ''}`;
  });
  afterEach(() => {
    process.env.PATH = path;
  });
  const args = (): string[] => readFileSync(join(dir, 'args'), 'utf8').trim().split('\n');

  it('gets JSON with the kubeconfig and a request timeout, arguments passed as they are', () => {
    const kube = kubectl({ kubeconfig: '/tmp/k c' });
    expect(kube.getJson(['horizontalpodautoscaler', 'web', '-n', 'web'])).toEqual({ kind: 'HorizontalPodAutoscaler', status: { currentReplicas: 3 } });
    expect(args()).toEqual(['--kubeconfig', '/tmp/k c', '--request-timeout=20s', 'get', 'horizontalpodautoscaler', 'web', '-n', 'web', '-o', 'json']);
  });

  it('applies objects as one List on stdin', () => {
    kubectl().apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'scale-day' } }]);
    expect(args()).toEqual(['--request-timeout=20s', 'apply', '-f', '-']);
    expect(JSON.parse(readFileSync(join(dir, 'stdin'), 'utf8'))).toEqual({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'scale-day' } }] });
  });

  it('mints a ServiceAccount token with kubectl create token (TokenRequest), the duration in seconds', () => {
    expect(kubectl({ kubeconfig: '/tmp/ci' }).createToken('scale-day', 'scale-day', 1140)).toBe('');
    expect(args()).toEqual(['--kubeconfig', '/tmp/ci', '--request-timeout=20s', 'create', 'token', 'scale-day', '-n', 'scale-day', '--duration=1140s']);
  });

  it('fails with kubectl\'s own message', () => {
    expect(() => kubectl().getJson(['horizontalpodautoscaler', 'missing'])).toThrow('kubectl get horizontalpodautoscaler missing -o json failed (exit 1): Error from server (NotFound)');
  });
});
