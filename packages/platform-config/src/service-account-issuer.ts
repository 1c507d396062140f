/**
 * Names of a cluster's service-account issuer (IRSA on our own clusters): the API server signs
 * service-account tokens with this `https://` issuer, the initialising control-plane node
 * publishes the OpenID discovery document and JWKS to the issuer bucket, and AWS STS fetches
 * them to trust tokens through the cluster's IAM OIDC provider. node-bootstrap (kubeadm flags,
 * publishing), aws-cluster (bucket, provider, workload roles), k8s-addons (service accounts)
 * and ha-check read the names from here.
 */

/** The audience STS accepts for web-identity tokens (what projected tokens are requested for). */
export const STS_AUDIENCE = 'sts.amazonaws.com';

/** Object keys under the issuer: the paths the API server serves the same documents at. */
export const OIDC_DISCOVERY_KEY = '.well-known/openid-configuration';
export const OIDC_JWKS_KEY = 'openid/v1/jwks';

export interface ServiceAccountIssuerNames {
  /** S3 bucket that serves exactly the two discovery objects publicly. */
  readonly bucket: string;
  /** `<bucket>.s3.<region>.amazonaws.com`: the provider's URL without scheme, and the IAM condition-key prefix. */
  readonly host: string;
  /** `https://<host>`: `--service-account-issuer`, the `iss` of every token. */
  readonly url: string;
  /** `<url>/openid/v1/jwks`: `--service-account-jwks-uri`, the discovery document's `jwks_uri`. */
  readonly jwksUrl: string;
  readonly discoveryKey: string;
  readonly jwksKey: string;
  readonly audience: string;
  /** ARN of the cluster's IAM OIDC provider in `accountId` (IAM derives it from the host). */
  providerArn(accountId: string): string;
  /** The `sub` of a service account's token: `system:serviceaccount:<namespace>:<name>`. */
  subject(namespace: string, serviceAccount: string): string;
  /** IAM role of one workload identity (`id` from the add-on that declares it); IAM names are global per account. */
  workloadRole(id: string): string;
}

export function serviceAccountIssuerNames(organization: string, cluster: string, region: string): ServiceAccountIssuerNames {
  // Virtual-hosted–style S3 address: no dots in the bucket name (org and cluster are DNS labels),
  // so the S3 wildcard certificate covers it and STS can fetch over TLS.
  const bucket = `${organization}-${cluster}-oidc-${region}`;
  const host = `${bucket}.s3.${region}.amazonaws.com`;
  const url = `https://${host}`;
  return {
    bucket,
    host,
    url,
    jwksUrl: `${url}/${OIDC_JWKS_KEY}`,
    discoveryKey: OIDC_DISCOVERY_KEY,
    jwksKey: OIDC_JWKS_KEY,
    audience: STS_AUDIENCE,
    providerArn: (accountId) => `arn:aws:iam::${accountId}:oidc-provider/${host}`,
    subject: (namespace, serviceAccount) => `system:serviceaccount:${namespace}:${serviceAccount}`,
    workloadRole: (id) => `${cluster}-irsa-${id}`,
  };
}
