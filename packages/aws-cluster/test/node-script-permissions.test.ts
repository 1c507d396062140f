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

/** The shell text a role can run: its own scripts plus every lib.sh function they reach. */
function roleCode(role: keyof typeof ROLE_SCRIPTS): string {
  const lib = libFunctions();
  const own = ROLE_SCRIPTS[role].filter((f) => f !== 'lib.sh').map(code).join('\n');
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
    expect([...requiredActions(roleCode('control-plane')).keys()].sort()).toEqual(
      expect.arrayContaining(['autoscaling:CompleteLifecycleAction', 'autoscaling:DescribeAutoScalingInstances', 'ec2:DescribeInstances', 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 's3:DeleteObject', 's3:GetObject', 's3:ListBucket', 's3:PutObject', 'ssm:DeleteParameter', 'ssm:GetParameter', 'ssm:PutParameter']),
    );
    // Workers reach only the read helpers of lib.sh, never ssm_put_secret.
    expect([...requiredActions(roleCode('worker')).keys()].sort()).toEqual(['kms:Decrypt', 'ssm:GetParameter']);
    // The old `etcd-restore.sh request` called delete-parameters: the check names what would be missing.
    expect([...requiredActions('aws ssm delete-parameters --region "$REGION" --names a b').keys()]).toEqual(['ssm:DeleteParameters']);
    expect(grants(allowed(names.controlPlaneRole), 'ssm:DeleteParameters')).toBe(false);
  });
});
