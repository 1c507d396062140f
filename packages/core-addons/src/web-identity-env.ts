import { WEB_IDENTITY_TOKEN } from '@platform/platform-config';

/** A container env entry (what charts and the CloudNativePG Cluster take). */
export interface EnvVar {
  readonly name: string;
  readonly value: string;
}

/**
 * The variables that make every AWS SDK (Go v1/v2, boto3) call AssumeRoleWithWebIdentity with a
 * projected token: k8s-addons' `webIdentity` and the cloud controller (which core-addons renders
 * because the first node installs it before any webhook could run) build their env here.
 * `region` undefined: the chart sets AWS_REGION from a value of its own.
 */
export function webIdentityEnv(roleArn: string, tokenDirectory: string, region: string | undefined): EnvVar[] {
  return [
    { name: 'AWS_ROLE_ARN', value: roleArn },
    { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: `${tokenDirectory}/${WEB_IDENTITY_TOKEN.file}` },
    // The regional STS endpoint: the global one lives in us-east-1, a region this cluster must not depend on.
    { name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' },
    ...(region === undefined ? [] : [{ name: 'AWS_REGION', value: region }]),
  ];
}

/** The projected service-account token for the STS audience, valid an hour and rotated by the kubelet. */
export function webIdentityTokenSource(audience: string) {
  return { serviceAccountToken: { audience, expirationSeconds: WEB_IDENTITY_TOKEN.expirationSeconds, path: WEB_IDENTITY_TOKEN.file } };
}
