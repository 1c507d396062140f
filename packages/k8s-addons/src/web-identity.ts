import { webIdentityEnv, webIdentityTokenSource, type EnvVar } from '@platform/core-addons';
import { legacyBackupCredentials, ROLE_ARN_ANNOTATION, WEB_IDENTITY_TOKEN, workloadIdentity, type WorkloadIdentity, type WorkloadIdentityId } from '@platform/platform-config';
import type { AddOnContext } from './addon';

export type { EnvVar } from '@platform/core-addons';

/**
 * How one pod gets its workload role, built once here so no add-on repeats it: a projected
 * service-account token for the STS audience, valid an hour and rotated by the kubelet, and the
 * variables that make every AWS SDK (Go v1/v2, boto3) call AssumeRoleWithWebIdentity with it.
 * No webhook: the wiring is in our manifests, so pod creation does not depend on a mutating
 * webhook being reachable during an AZ loss, and only the pods that name an identity get it.
 *
 * The AWS SDK credential chain prefers environment keys, then web identity, then … the instance
 * role through IMDS: no pod here gets environment keys, and these pods no longer run with host
 * networking, so the IMDS hop limit of 1 keeps them off the node role.
 */
export interface WebIdentity {
  readonly identity: WorkloadIdentity;
  readonly roleArn: string;
  /** `eks.amazonaws.com/role-arn` on the service account: tools (and people) read the role from it. */
  readonly serviceAccountAnnotations: Readonly<Record<string, string>>;
  /** AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE, AWS_STS_REGIONAL_ENDPOINTS=regional and AWS_REGION. */
  readonly env: readonly EnvVar[];
  /** The projected token volume and its mount (read-only), for charts that take volumes. */
  readonly volume: { readonly name: string; readonly projected: { readonly sources: readonly [TokenSource] } };
  readonly volumeMount: { readonly name: string; readonly mountPath: string; readonly readOnly: true };
  /** The volume's one source: CloudNativePG takes it as `projectedVolumeTemplate.sources`. */
  readonly tokenSource: TokenSource;
}

export interface TokenSource {
  readonly serviceAccountToken: { readonly audience: string; readonly expirationSeconds: number; readonly path: string };
}

export interface WebIdentityOptions {
  /**
   * Where the pod sees the projected volume. @default WEB_IDENTITY_TOKEN.mountPath
   * (CloudNativePG mounts its projected volume at `/projected`, fixed).
   */
  readonly tokenDirectory?: string;
  /** Leave AWS_REGION out when the chart already sets it from a value of its own. @default false */
  readonly regionFromChart?: boolean;
}

/**
 * The wiring of identity `id` on `ctx`'s cluster. Throws when the platform has no account id
 * (the role ARN names it); add-ons check that first through AddOnBase.
 */
export function webIdentity(ctx: AddOnContext, id: WorkloadIdentityId, options: WebIdentityOptions = {}): WebIdentity {
  const accountId = ctx.platform.settings.accountId;
  if (!accountId) throw new Error(`webIdentity(${id}): platform-config settings.accountId is not set; the role ARN names the account`);
  const identity = workloadIdentity(ctx.names, id);
  const roleArn = identity.roleArn(accountId);
  const directory = options.tokenDirectory ?? WEB_IDENTITY_TOKEN.mountPath;
  const tokenSource: TokenSource = webIdentityTokenSource(ctx.names.serviceAccountIssuer.audience);
  return {
    identity,
    roleArn,
    serviceAccountAnnotations: { [ROLE_ARN_ANNOTATION]: roleArn },
    env: webIdentityEnv(roleArn, directory, options.regionFromChart ? undefined : ctx.cluster.region),
    volume: { name: WEB_IDENTITY_TOKEN.volume, projected: { sources: [tokenSource] } },
    volumeMount: { name: WEB_IDENTITY_TOKEN.volume, mountPath: directory, readOnly: true },
    tokenSource,
  };
}

/**
 * The wiring of identity `id` when the cluster's identity stage gives its add-ons web identity
 * (platform-config `serviceAccountIdentity.podCredentials`), else undefined: a cluster that ran
 * before IRSA keeps its add-ons on the node role (host networking, IMDS) until the stage whose
 * pull request switches the manifests, so the API servers already sign with the issuer STS
 * trusts (docs/runbooks/service-account-issuer.md). Every add-on that calls AWS asks this, never
 * the stage name.
 */
export function stagedWebIdentity(ctx: AddOnContext, id: WorkloadIdentityId, options: WebIdentityOptions = {}): WebIdentity | undefined {
  return ctx.cluster.serviceAccountIdentity.podCredentials === 'web-identity' ? webIdentity(ctx, id, options) : undefined;
}

/**
 * Post-render JSON patch for a Deployment whose chart has no host-network value, while it uses the
 * node role: IMDS answers only one hop away (hop limit 1), so only a host-network pod reaches it.
 */
export const HOST_NETWORK_PATCH = [
  { op: 'add', path: '/spec/template/spec/hostNetwork', value: true },
  { op: 'add', path: '/spec/template/spec/dnsPolicy', value: 'ClusterFirstWithHostNet' },
] as const;

/** The database's S3 keys from the Secret the old initialiser made (before the web-identity stage). */
export function legacyS3Credentials(ctx: AddOnContext): { accessKeyId: { name: string; key: string }; secretAccessKey: { name: string; key: string } } {
  const legacy = legacyBackupCredentials(ctx.cluster.name, ctx.names.appBackupArchive.namespace);
  return { accessKeyId: { name: legacy.secretName, key: legacy.keys.accessKeyId }, secretAccessKey: { name: legacy.secretName, key: legacy.keys.secretAccessKey } };
}

/** `env` as a name → value map (charts such as cluster-autoscaler take `extraEnv` that way). */
export function envMap(env: readonly EnvVar[]): Record<string, string> {
  return Object.fromEntries(env.map((e) => [e.name, e.value]));
}
