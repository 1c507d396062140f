import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCRIPTS_DIR } from '@platform/node-bootstrap';
import { describe, expect, it } from 'vitest';
import { platform, synthCluster, type Attributes } from './support';

/*
 * One key identifier everywhere. SSM reports the KeyId a SecureString was last written with,
 * and S3 the key of each object: a Terraform-owned parameter written with the key ARN and
 * rewritten by the nodes with the alias showed up as drift in every plan. Terraform owns no
 * join parameter now; every writer (node scripts, runbooks) uses the alias the user-data hands
 * the nodes, which must be the alias Terraform creates for the key the IAM policies name.
 */

const scripts = readdirSync(SCRIPTS_DIR).filter((f) => f.endsWith('.sh'));
const code = (file: string) => readFileSync(join(SCRIPTS_DIR, file), 'utf8');

describe('the cluster key identifier', () => {
  it.each(platform().clusters.map((c) => c.name))('%s: every launch template hands the nodes the alias of the stack\'s cluster key', (name) => {
    const stack = synthCluster(platform(), name);
    // The stack's own-region keys come first (the us-east-1 page topic's key has a provider alias).
    const [[aliasId, alias]] = (stack.resources('aws_kms_alias') as [string, Attributes][]).filter(([, a]) => !a.provider);
    expect(aliasId).toBeDefined();
    expect(alias.name).toBe(platform().namesOf(name).kmsAlias);
    const [keyId] = (stack.resources('aws_kms_key') as [string, Attributes][]).find(([, k]) => !k.provider)!;
    expect(alias.target_key_id).toBe(`\${aws_kms_key.${keyId}.key_id}`);
    const templates = stack.values('aws_launch_template');
    expect(templates.length).toBeGreaterThan(1);
    for (const template of templates) {
      const env = [...String(template.user_data).matchAll(/KMS_KEY='([^']*)'/g)].map((m) => m[1]);
      expect(env, template.name).toEqual([alias.name]);
    }
    // The key the node policies let SSM and S3 use is that same key.
    const policies = stack.values('aws_iam_role_policy').map((p) => String(p.policy)).join('\n');
    expect(policies).toContain(`\${aws_kms_key.${keyId}.arn}`);
  });

  it('is the only key any node script writes with: every SecureString and SSE-KMS upload names "$KMS_KEY"', () => {
    const writes = scripts.flatMap((file) =>
      code(file)
        .split('\n')
        .filter((line) => !/^\s*#/.test(line) && /--type SecureString|--sse aws:kms|--server-side-encryption aws:kms|--key-id|--sse-kms-key-id|--ssekms-key-id/.test(line))
        .map((line) => [file, line.trim()] as const),
    );
    expect(writes.map(([file]) => file).sort()).toEqual(['ci-kubeconfig.sh', 'etcd-restore.sh', 'etcd-snapshot.sh', 'lib.sh', 'service-account-key-rotation.sh']);
    for (const [file, line] of writes) {
      // A SecureString without --key-id would be encrypted with aws/ssm, whose key policy lets every principal of the account decrypt through SSM.
      expect([...line.matchAll(/--(?:sse-kms-|ssekms-)?key-id (\S+)/g)].map((m) => m[1]), `${file}: ${line}`).toEqual(['"$KMS_KEY"']);
    }
  });
});
