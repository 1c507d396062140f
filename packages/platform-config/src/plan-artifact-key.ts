import type { PlatformSettings } from './cluster-definition';

/**
 * The KMS key that seals the saved plans between the merge's plan job and its apply job
 * (a plan file holds the prior state, secrets included). The ci-identity stack creates it
 * under this alias; the pipeline names it by the alias. Its key policy lets the merge-plan
 * role only generate data keys and the apply role only decrypt, both bound to
 * PLAN_ARTIFACT_KEY_CONTEXT.
 */
export function planArtifactKeyAlias(settings: Pick<PlatformSettings, 'organization'>): string {
  return `alias/${settings.organization}-terraform-plans`;
}

/** Encryption-context key and value every plan data key carries (the key policy's condition). */
export const PLAN_ARTIFACT_KEY_CONTEXT = { key: 'purpose', value: 'terraform-plan' } as const;
