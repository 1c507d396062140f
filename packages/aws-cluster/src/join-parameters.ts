import { JOIN_PARAMETER_KEYS, ssmParameterArn, type JoinParameterKey } from '@platform/platform-config';
import { TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { invalidProp } from './private/validation';

export interface JoinParametersProps {
  /** SSM names of the join material (platform-config `names.ssm`), each starting with "/". */
  readonly joinToken: string;
  readonly caCertHash: string;
  readonly certificateKey: string;
  readonly region: string;
  /** May be a token (`accountIdOf`). */
  readonly accountId: string;
}

/**
 * Where kubeadm join material lives: three SecureString parameters the initialising
 * control-plane node creates (`put-parameter --key-id <names.kmsAlias>`) and refreshes, and
 * every later node reads. Terraform owns no value and no parameter: state never holds join
 * material, a plan never decrypts it (so no identity a pull request can assume needs
 * kms:Decrypt), and nothing drifts when the nodes rewrite it. This construct only names
 * their ARNs for IAM and the KMS encryption context, and tells Terraform to forget the
 * parameters earlier versions managed (`removed`, `destroy = false`: the live values stay).
 */
export class JoinParameters extends Construct {
  readonly joinTokenArn: string;
  readonly caCertHashArn: string;
  readonly certificateKeyArn: string;
  /** All three ARNs, in JOIN_PARAMETER_KEYS order. */
  readonly arns: readonly string[];

  constructor(scope: Construct, id: string, props: JoinParametersProps) {
    super(scope, id);
    for (const key of JOIN_PARAMETER_KEYS) {
      const name = props[key];
      if (!name.startsWith('/') || /[*?]/.test(name)) throw invalidProp('JoinParameters', key, name, 'an SSM path starting with "/" (no wildcards)');
    }
    const arn = (key: JoinParameterKey) => ssmParameterArn(props[key], props.region, props.accountId);
    this.joinTokenArn = arn('joinToken');
    this.caCertHashArn = arn('caCertHash');
    this.certificateKeyArn = arn('certificateKey');
    this.arns = JOIN_PARAMETER_KEYS.map(arn);
    forgetLegacyParameters(this);
  }
}

/**
 * Until this change every stack had `aws_ssm_parameter` resources at `<this path>/<key>`:
 * `removed` with `destroy = false` (Terraform ≥ 1.7) drops them from state on the next apply
 * and leaves the live parameters alone. Their addresses are the logical ids cdktf gave those
 * resources, computed from the same construct paths (a plain Construct creates nothing).
 * A stack created after the change plans nothing for these blocks.
 */
function forgetLegacyParameters(scope: Construct): void {
  const stack = TerraformStack.of(scope);
  const removed = JOIN_PARAMETER_KEYS.map((key) => ({
    from: `aws_ssm_parameter.${stack.getLogicalId(new Construct(scope, key).node)}`,
    lifecycle: { destroy: false },
  }));
  stack.addOverride('removed', removed);
}
