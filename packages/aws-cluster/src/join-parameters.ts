import { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter';
import { JOIN_PARAMETER_PLACEHOLDER } from '@platform/platform-config';
import { Construct } from 'constructs';
import { invalidProp } from './private/validation';

export interface JoinParametersProps {
  readonly joinToken: string;
  readonly caCertHash: string;
  readonly certificateKey: string;
  readonly kmsKeyArn: string;
}

/** The SecureStrings JoinParameters creates, by prop (and construct id). */
export const JOIN_PARAMETER_KEYS = ['joinToken', 'caCertHash', 'certificateKey'] as const;

/**
 * kubeadm join material as SecureString parameters under the cluster's SSM path, encrypted
 * with the cluster key. Terraform owns their existence, key and ARNs (so IAM can name them);
 * the nodes own their values (refreshed before the token expires): Terraform writes only the
 * placeholder, write-only, once at creation, and never reads a value into state.
 * The init lock is not created here: the first node creates it atomically.
 */
export class JoinParameters extends Construct {
  readonly joinTokenArn: string;
  readonly caCertHashArn: string;
  readonly certificateKeyArn: string;

  constructor(scope: Construct, id: string, props: JoinParametersProps) {
    super(scope, id);
    const arns = JOIN_PARAMETER_KEYS.map((key) => {
      const name = props[key];
      if (!name.startsWith('/')) throw invalidProp('JoinParameters', key, name, 'an SSM path starting with "/"');
      return new SsmParameter(this, key, {
        name,
        type: 'SecureString',
        keyId: props.kmsKeyArn,
        // Write-only (Terraform ≥ 1.11): never stored in state or plans, so the live values the
        // nodes write are not either (a refresh of `value` would copy them into state).
        valueWo: JOIN_PARAMETER_PLACEHOLDER,
        valueWoVersion: 1,
        description: `kubeadm ${key}, written by the control-plane nodes`,
        // `value`: stacks applied before value_wo. `value_wo_version`: its first appearance on such
        // a stack must not PutParameter the placeholder over the live join material.
        lifecycle: { ignoreChanges: ['value', 'value_wo_version'] },
      }).arn;
    });
    [this.joinTokenArn, this.caCertHashArn, this.certificateKeyArn] = arns;
  }
}
