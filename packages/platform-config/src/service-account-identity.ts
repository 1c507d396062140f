/**
 * Where a cluster stands in its move to workload identities (IRSA on our own clusters). A new
 * cluster starts `complete`; a cluster that ran before IRSA moves through the stages one reviewed
 * pull request at a time, because one apply plus one Flux sync that did everything at once left
 * pods without AWS credentials: the node roles shrank, the backup user disappeared and the
 * manifests switched to projected tokens while the running API servers still signed with the old
 * issuer, which STS refuses (docs/runbooks/service-account-issuer.md, "Clusters that existed before").
 *
 * Each stage is plain data (a definition is cloned and validated as data) that says what every
 * consumer does, so no consumer compares stage names: node-bootstrap reads `apiServer`,
 * k8s-addons `podCredentials`, aws-cluster `nodeRolesKeepAddOnRights` and `legacyBackupUser`.
 * Build one with the `ServiceAccountIdentity` factories; the pipeline's identity-stage check
 * (packages/pipeline) refuses a pull request that moves a cluster more than one stage.
 */

/** The stages in order; a pull request may move a cluster one step at most. */
export const SERVICE_ACCOUNT_IDENTITY_STAGES = ['accept-issuer', 'sign-with-issuer', 'web-identity', 'complete'] as const;
export type ServiceAccountIdentityStage = (typeof SERVICE_ACCOUNT_IDENTITY_STAGES)[number];

export interface ServiceAccountIdentity {
  readonly stage: ServiceAccountIdentityStage;
  /**
   * Which issuer kube-apiserver signs with (`legacy`: `https://kubernetes.default.svc.cluster.local`,
   * `cluster`: the cluster's published `https://` issuer). Both are always accepted, so every API
   * server of a rolling replacement accepts what any other signs.
   */
  readonly apiServer: { readonly signs: 'legacy' | 'cluster' };
  /** How the AWS-calling add-ons get credentials: the node role through IMDS (host network) or their own web identity. */
  readonly podCredentials: 'node-role' | 'web-identity';
  /** Whether the control-plane role still carries the add-ons' statements (the fallback until the last stage). */
  readonly nodeRolesKeepAddOnRights: boolean;
  /** Whether the database backups' IAM user (access key made by an operator) still exists. */
  readonly legacyBackupUser: boolean;
}

const stages: { readonly [K in ServiceAccountIdentityStage]: ServiceAccountIdentity & { readonly stage: K } } = {
  'accept-issuer': { stage: 'accept-issuer', apiServer: { signs: 'legacy' }, podCredentials: 'node-role', nodeRolesKeepAddOnRights: true, legacyBackupUser: true },
  'sign-with-issuer': { stage: 'sign-with-issuer', apiServer: { signs: 'cluster' }, podCredentials: 'node-role', nodeRolesKeepAddOnRights: true, legacyBackupUser: true },
  'web-identity': { stage: 'web-identity', apiServer: { signs: 'cluster' }, podCredentials: 'web-identity', nodeRolesKeepAddOnRights: true, legacyBackupUser: true },
  complete: { stage: 'complete', apiServer: { signs: 'cluster' }, podCredentials: 'web-identity', nodeRolesKeepAddOnRights: false, legacyBackupUser: false },
};

export const ServiceAccountIdentity = {
  /**
   * (a) Issuer bucket, OIDC provider and workload roles exist; API servers accept the cluster's
   * issuer but still sign with the legacy one; node roles, the backup user and the manifests as before.
   */
  acceptIssuer: (): ServiceAccountIdentity => stages['accept-issuer'],
  /** (b) API servers sign with the cluster's issuer (STS can verify new tokens) and still accept the legacy one. */
  signWithIssuer: (): ServiceAccountIdentity => stages['sign-with-issuer'],
  /** (c) The add-ons' manifests switch to web identity; the node roles keep the add-ons' statements as the fallback. */
  webIdentity: (): ServiceAccountIdentity => stages['web-identity'],
  /** (d) Node roles shrink to what the nodes need, the backup user goes. What every new cluster is. */
  complete: (): ServiceAccountIdentity => stages.complete,
  /** The stage's strategy by name (the pipeline reads names from the base branch). */
  of: (stage: ServiceAccountIdentityStage): ServiceAccountIdentity => stages[stage],
} as const;

/** Whether `identity` is exactly what its stage's factory makes (a hand-made mix of aspects is refused). */
export function isServiceAccountIdentityStage(identity: ServiceAccountIdentity): boolean {
  const expected = (stages as Record<string, ServiceAccountIdentity | undefined>)[identity.stage];
  return expected !== undefined && JSON.stringify(expected) === JSON.stringify(identity);
}

/** Steps from `from` to `to` (negative: backwards). */
export function serviceAccountIdentitySteps(from: ServiceAccountIdentityStage, to: ServiceAccountIdentityStage): number {
  return SERVICE_ACCOUNT_IDENTITY_STAGES.indexOf(to) - SERVICE_ACCOUNT_IDENTITY_STAGES.indexOf(from);
}

/**
 * Why a pull request may not move `cluster` from `from` (the base branch's stage) to `to`, or
 * undefined when it may: one step forward, or one step back (undoing the last reviewed step), or
 * none. Leaving `complete` is refused: the backup user's keys and the node roles' add-on rights
 * were removed by hand or by the apply, and re-creating them gives no working credentials.
 */
export function serviceAccountIdentityMoveProblem(cluster: string, from: ServiceAccountIdentityStage, to: ServiceAccountIdentityStage): string | undefined {
  const steps = serviceAccountIdentitySteps(from, to);
  const order = SERVICE_ACCOUNT_IDENTITY_STAGES.join(' → ');
  if (from === 'complete' && to !== 'complete') {
    return `cluster ${cluster}: serviceAccountIdentity moves from ${from} to ${to}; a complete cluster stays complete (its backup user and the node roles' add-on rights are gone)`;
  }
  if (steps > 1) {
    return `cluster ${cluster}: serviceAccountIdentity moves from ${from} to ${to} (${steps} stages) in one pull request; expected one stage at a time (${order}), next: ${SERVICE_ACCOUNT_IDENTITY_STAGES[SERVICE_ACCOUNT_IDENTITY_STAGES.indexOf(from) + 1]}`;
  }
  if (steps < -1) {
    return `cluster ${cluster}: serviceAccountIdentity moves back from ${from} to ${to} (${-steps} stages) in one pull request; expected at most one stage back (${order})`;
  }
  return undefined;
}

/**
 * The database backups' credentials from before IRSA, still used by a cluster until its stage is
 * `complete`: an IAM user whose access key an operator made, put into the SecureString and from
 * there into the Secret the manifests name (no manifest owns the Secret: the old initialiser made it).
 */
export interface LegacyBackupCredentialNames {
  readonly iamUser: string;
  readonly namespace: string;
  readonly secretName: string;
  readonly keys: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export function legacyBackupCredentials(cluster: string, namespace: string): LegacyBackupCredentialNames {
  return { iamUser: `${cluster}-app-backups`, namespace, secretName: 'app-backup-s3', keys: { accessKeyId: 'ACCESS_KEY_ID', secretAccessKey: 'ACCESS_SECRET_KEY' } };
}
