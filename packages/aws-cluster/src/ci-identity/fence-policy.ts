import { policyDocument, type PolicyDocument } from '../iam/policy-document';

/** One SSM parameter the fence reads, with its region (the parameter ARN names it). */
export interface FenceParameter {
  /** `arn:aws:ssm:<region>:<account>:parameter/<name>` */
  readonly arn: string;
  readonly region: string;
  /** A SecureString (the kubeconfig): its read decrypts through SSM under the cluster key. */
  readonly secure: boolean;
}

/**
 * What the scheduled fence does in AWS (packages/failover `fence`, and its workflow's
 * fetch-kubeconfigs.sh): `sts get-caller-identity` (needs no grant), `ssm get-parameter` of
 * the standby's promoted marker (a String), and `ssm get-parameter --with-decryption` of both
 * clusters' failover kubeconfigs (SecureStrings: SSM decrypts with the cluster key, with the
 * parameter's ARN as encryption context). Everything else it does goes through the
 * clusters' APIs with that kubeconfig. No write, no other parameter, no direct decrypt.
 */
export function fencePolicy(parameters: readonly FenceParameter[]): PolicyDocument {
  const secure = parameters.filter((p) => p.secure);
  return policyDocument(
    { Sid: 'ReadMarkersAndKubeconfigs', Effect: 'Allow', Action: 'ssm:GetParameter', Resource: parameters.map((p) => p.arn) },
    {
      Sid: 'DecryptKubeconfigsThroughSsm',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: [...new Set(secure.map((p) => p.arn.replace(/^arn:aws:ssm:([^:]+):([^:]+):parameter\/.*$/, 'arn:aws:kms:$1:$2:key/*')))],
      Condition: {
        StringEquals: {
          'kms:ViaService': [...new Set(secure.map((p) => `ssm.${p.region}.amazonaws.com`))],
          'kms:EncryptionContext:PARAMETER_ARN': secure.map((p) => p.arn),
        },
      },
    },
  );
}
