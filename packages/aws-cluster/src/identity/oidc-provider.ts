import { IamOpenidConnectProvider } from '@cdktf/provider-aws/lib/iam-openid-connect-provider';
import { Construct } from 'constructs';
import { invalidProp } from '../private/validation';

export interface ServiceAccountOidcProviderProps {
  /** platform-config `names.serviceAccountIssuer.url`: `https://`, no path, no trailing slash. */
  readonly issuerUrl: string;
  /** platform-config `names.serviceAccountIssuer.audience` (`sts.amazonaws.com`). */
  readonly audience: string;
}

/**
 * The cluster's IAM OIDC provider: STS accepts web-identity tokens whose `iss` is the issuer
 * URL and whose `aud` is the audience, verified against the JWKS the issuer publishes. The
 * workload roles trust `arn` (one service account each).
 *
 * No `thumbprint_list`: optional in the AWS provider 5.100.0 schema, and IAM ignores
 * thumbprints for issuers whose certificate chains to a CA it trusts (S3's endpoints do); IAM
 * computes one itself on create, and the provider reads it back without a diff.
 */
export class ServiceAccountOidcProvider extends Construct {
  readonly arn: string;
  readonly issuerUrl: string;

  constructor(scope: Construct, id: string, props: ServiceAccountOidcProviderProps) {
    super(scope, id);
    if (!/^https:\/\/[a-z0-9.-]+$/.test(props.issuerUrl)) throw invalidProp('ServiceAccountOidcProvider', 'issuerUrl', props.issuerUrl, 'https:// and a host name, no path or trailing slash');
    if (props.audience.trim() === '') throw invalidProp('ServiceAccountOidcProvider', 'audience', props.audience, 'the audience tokens are issued for, such as sts.amazonaws.com');
    const provider = new IamOpenidConnectProvider(this, 'provider', { url: props.issuerUrl, clientIdList: [props.audience] });
    this.arn = provider.arn;
    this.issuerUrl = props.issuerUrl;
  }
}
