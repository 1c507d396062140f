import type { TerraformIndex } from '../terraform';
import { ssmSecureStringInState } from './tf-accessors';

/**
 * Resource types whose secret ends up in Terraform state whatever the configuration says
 * (Terraform stores every attribute, `sensitive` only hides it from output).
 */
const SECRET_TYPES: Readonly<Record<string, string>> = {
  aws_iam_access_key: 'secret access key',
  aws_iam_user_login_profile: 'console password',
  aws_secretsmanager_secret_version: 'secret value',
  aws_kms_ciphertext: 'plaintext',
  aws_db_instance: 'master password',
  aws_rds_cluster: 'master password',
  tls_private_key: 'private key',
  random_password: 'password',
};

/**
 * Addresses (with what they hold) of the resources that put a secret into a stack's state: a
 * role that can read the state object reads these. An SSM SecureString counts only with `value`
 * (a write-only `value_wo` is never stored).
 */
export function secretsInState(index: TerraformIndex): string[] {
  const out: string[] = [];
  for (const r of index.resources) {
    const kind = SECRET_TYPES[r.type];
    if (kind) out.push(`${r.address} (${kind})`);
    if (r.type === 'aws_ssm_parameter' && ssmSecureStringInState(r)) out.push(`${r.address} (SecureString value)`);
  }
  return out;
}
