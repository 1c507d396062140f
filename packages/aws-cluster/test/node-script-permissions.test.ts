import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROLE_SCRIPTS, SCRIPTS_DIR } from '@platform/node-bootstrap';
import { describe, expect, it } from 'vitest';
import { platform, Synth, synthCluster, type Attributes } from './support';

/*
 * Every `aws <service> <operation>` the node-bootstrap scripts of a role can issue must be an
 * action that role's synthesized policies allow: an AccessDenied at boot is a node that never
 * joins. lib.sh is shared, so only the helpers a role's scripts reach (transitively) count.
 */

const code = (file: string) =>
  readFileSync(join(SCRIPTS_DIR, file), 'utf8')
    // A command continued over lines (`\` at the end) is one call.
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n');

/** lib.sh's functions by name: one-line `f() { ...; }` or a block closed by `}` at column 0. */
function libFunctions(): Map<string, string> {
  const functions = new Map<string, string>();
  const lines = code('lib.sh').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const match = /^([a-z_]+)\(\) \{(.*)$/.exec(lines[i]);
    if (!match) continue;
    if (match[2].trim().endsWith('}')) {
      functions.set(match[1], match[2]);
      continue;
    }
    const end = lines.findIndex((line, j) => j > i && line === '}');
    functions.set(match[1], lines.slice(i + 1, end).join('\n'));
    i = end;
  }
  return functions;
}

/** A top-level function's body: `name() {` to the `}` at column 0. */
function functionBody(text: string, name: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line === `${name}() {`);
  if (start < 0) throw new Error(`no function ${name}()`);
  return lines.slice(start + 1, lines.findIndex((line, j) => j > start && line === '}')).join('\n');
}

/**
 * The part of a script a node runs with its role. etcd-restore.sh's other subcommands (list,
 * copy-back, request) run on an operator's machine as the operator and the restore role: a node
 * only ever calls `apply` (control-plane.sh).
 */
const nodePart = (file: string): string => (file === 'etcd-restore.sh' ? functionBody(code(file), 'apply') : code(file));

/** The shell text a role can run: its own scripts plus every lib.sh function they reach. */
function roleCode(role: keyof typeof ROLE_SCRIPTS): string {
  const lib = libFunctions();
  const own = ROLE_SCRIPTS[role].filter((f) => f !== 'lib.sh').map(nodePart).join('\n');
  const reached = new Set<string>();
  let frontier = own;
  for (;;) {
    const found = [...lib.keys()].filter((name) => !reached.has(name) && new RegExp(`\\b${name}\\b`).test(frontier));
    if (found.length === 0) break;
    found.forEach((name) => reached.add(name));
    frontier = found.map((name) => lib.get(name)).join('\n');
  }
  return [own, ...[...reached].map((name) => lib.get(name))].join('\n');
}

const pascal = (op: string) => op.split('-').map((w) => w[0].toUpperCase() + w.slice(1)).join('');
/** CLI operations whose IAM action is not `<service>:<PascalCase operation>`. */
const SPECIAL: Record<string, string> = { 's3api list-objects-v2': 's3:ListBucket', 's3api head-object': 's3:GetObject' };

/** IAM actions the role's `aws` calls need, each with the call it comes from. */
function requiredActions(text: string): Map<string, string> {
  const needed = new Map<string, string>();
  const need = (action: string, from: string) => needed.has(action) || needed.set(action, from);
  // `aws` or the lib.sh wrapper `aws_call`, then the service and the operation.
  for (const [call, service, op, rest] of text.matchAll(/\baws(?:_call)?\s+([a-z0-9]+)\s+([a-z][a-z0-9-]*)([^\n]*)/g)) {
    if (service === 's3' && op === 'cp') {
      // Download when the source is the bucket, upload otherwise (SSE-KMS needs a data key).
      if (/^\s+"s3:\/\//.test(rest)) need('s3:GetObject', call);
      else need('s3:PutObject', call);
      if (rest.includes('--sse aws:kms')) need('kms:GenerateDataKey', call);
      continue;
    }
    need(SPECIAL[`${service} ${op}`] ?? `${service === 's3api' ? 's3' : service}:${pascal(op)}`, call);
    // SSE-KMS on a single PutObject: S3 asks KMS for a data key with the caller's permission.
    if (rest.includes('--server-side-encryption aws:kms')) need('kms:GenerateDataKey', call);
    if (rest.includes('--with-decryption')) need('kms:Decrypt', call);
  }
  // ssm_put_secret writes SecureStrings with the cluster key.
  for (const [line] of text.matchAll(/[^\n]*--type SecureString[^\n]*/g)) need('kms:Encrypt', line.trim());
  return needed;
}

describe('node IAM policies allow every aws call of the node-bootstrap scripts', () => {
  const production = synthCluster(platform(), 'production');
  const names = platform().namesOf('production');
  const allowed = (roleName: string): string[] => {
    const [roleId] = production.resources('aws_iam_role').find(([, r]) => r.name === roleName) as [string, Attributes];
    return production
      .values('aws_iam_role_policy')
      .filter((p) => p.role === `\${aws_iam_role.${roleId}.name}`)
      .flatMap((p) => (Synth.policy(p.policy).Statement as Attributes[]).filter((s) => s.Effect === 'Allow').flatMap((s) => [s.Action].flat() as string[]));
  };
  const grants = (actions: readonly string[], action: string) =>
    actions.some((a) => new RegExp(`^${a.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i').test(action));

  it.each([
    ['control-plane', names.controlPlaneRole],
    ['worker', names.workerRole],
  ] as const)('%s', (role, roleName) => {
    const needed = requiredActions(roleCode(role));
    const actions = allowed(roleName);
    const missing = [...needed].filter(([action]) => !grants(actions, action)).map(([action, from]) => `${action} (for: ${from})`);
    expect(missing).toEqual([]);
  });

  it('finds the calls it checks (the extraction is not vacuous)', () => {
    const controlPlane = [...requiredActions(roleCode('control-plane')).keys()].sort();
    expect(controlPlane).toEqual(
      expect.arrayContaining(['autoscaling:CompleteLifecycleAction', 'autoscaling:DescribeAutoScalingInstances', 'ec2:DescribeInstances', 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 's3:DeleteObject', 's3:ListBucket', 's3:PutObject', 'ssm:DeleteParameter', 'ssm:GetParameter', 'ssm:PutParameter']),
    );
    // A restore downloads through the restore role's signed URL (curl): the node reads no snapshot with its own role.
    expect(controlPlane).not.toContain('s3:GetObject');
    expect(functionBody(code('etcd-restore.sh'), 'apply')).toContain('curl -fsS -o "$work/snapshot.tar.gz" "$url"');
    // The operator's `request` needs what the control-plane role must not have: a node cannot sign a restore URL.
    const request = [...requiredActions(functionBody(code('etcd-restore.sh'), 'assume_restore_role') + functionBody(code('etcd-restore.sh'), 'request')).keys()];
    expect(request).toEqual(expect.arrayContaining(['sts:AssumeRole', 's3:GetObject']));
    // (Its s3:GetObject is on its own script bundle only: iam.test.ts.)
    expect(grants(allowed(names.controlPlaneRole), 'sts:AssumeRole')).toBe(false);
    // Workers reach only the read helpers of lib.sh, never ssm_put_secret.
    expect([...requiredActions(roleCode('worker')).keys()].sort()).toEqual(['kms:Decrypt', 'ssm:GetParameter']);
    // The old `etcd-restore.sh request` called delete-parameters: the check names what would be missing.
    expect([...requiredActions('aws ssm delete-parameters --region "$REGION" --names a b').keys()]).toEqual(['ssm:DeleteParameters']);
    expect(grants(allowed(names.controlPlaneRole), 'ssm:DeleteParameters')).toBe(false);
  });
});
