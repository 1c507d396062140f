import { SERVICE_ACCOUNT_IDENTITY_STAGES, serviceAccountIdentityMoveProblem, type ServiceAccountIdentityStage } from '@platform/platform-config';
import type { IdentityStages } from '../io/base-identity-stages';

export interface IdentityStageVerdict {
  /** Moves the pull request may not make: each names the cluster, the stage from and to. */
  readonly problems: readonly string[];
  /** Accepted moves worth saying (a first declaration, a stage step). */
  readonly notes: readonly string[];
}

const isStage = (stage: string): stage is ServiceAccountIdentityStage => (SERVICE_ACCOUNT_IDENTITY_STAGES as readonly string[]).includes(stage);

/**
 * Judges each cluster's `serviceAccountIdentity` stage in the pull request (`head`) against the base
 * branch (`base`): one reviewed stage per pull request (docs/runbooks/service-account-issuer.md),
 * because each stage's apply and roll must have finished, and its checks passed, before the next
 * one's changes reach the cluster. A cluster the base does not have starts `complete`; a cluster the
 * base defines without a stage (its platform-config predates the field) starts at `accept-issuer`.
 */
export function judgeIdentityStages(base: IdentityStages, head: readonly { readonly name: string; readonly stage: ServiceAccountIdentityStage }[]): IdentityStageVerdict {
  const problems: string[] = [];
  const notes: string[] = [];
  for (const { name, stage } of head) {
    if (!(name in base)) {
      if (stage !== 'complete') problems.push(`cluster ${name}: serviceAccountIdentity is ${stage}, but the base branch has no cluster ${name}; expected complete (a new cluster has nothing to migrate)`);
      continue;
    }
    const from = base[name];
    if (from === null) {
      // The base predates the field: that cluster runs with node roles and the backup user, and
      // the identity-roll gate counts it as before accept-issuer, so only that first step can apply.
      if (stage === 'accept-issuer') notes.push(`cluster ${name}: the base branch declares no serviceAccountIdentity; accept-issuer accepted as the first declaration`);
      else problems.push(`cluster ${name}: serviceAccountIdentity is ${stage}, but the base branch declares none (the cluster runs without IRSA); expected acceptIssuer() as the first declaration (docs/runbooks/service-account-issuer.md)`);
      continue;
    }
    if (!isStage(from)) {
      problems.push(`cluster ${name}: the base branch's serviceAccountIdentity stage ${JSON.stringify(from)} is unknown here; expected one of ${SERVICE_ACCOUNT_IDENTITY_STAGES.join(', ')}`);
      continue;
    }
    const problem = serviceAccountIdentityMoveProblem(name, from, stage);
    if (problem) problems.push(problem);
    else if (from !== stage) {
      notes.push(
        `cluster ${name}: serviceAccountIdentity moves from ${from} to ${stage}. The apply of this step waits until every running control-plane node of ${name} records ${from} ` +
          `(the previous roll finished), then rolls the control plane onto ${stage}; open the next step's pull request only once that roll has finished`,
      );
    }
  }
  return { problems, notes };
}
