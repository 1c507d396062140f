import type { Platform } from '@platform/platform-config';
import type { ChangedResource, PlanSummary } from '../pull-request/plan-summary';

/**
 * Resources whose loss is not recoverable by re-applying: Terraform state and backup
 * buckets (data), KMS keys (everything encrypted with them), control-plane ASGs (etcd
 * quorum). A plan that deletes or replaces one of them stops the apply unless the pull
 * request carried the override label.
 */
export const PROTECTED_DESTROY_LABEL = 'allow-protected-destroy';

export interface ProtectedResourceRule {
  readonly type: string;
  /** Attribute of the prior state holding the name; undefined protects every resource of the type. */
  readonly nameAttribute?: string;
  readonly names?: ReadonlySet<string>;
  readonly why: string;
}

export interface ProtectedDestroy {
  readonly address: string;
  readonly kind: 'delete' | 'replace';
  readonly why: string;
}

/** Every protected name, derived from platform-config so no name is retyped here. */
export function protectedResourceRules(platform: Platform): ProtectedResourceRule[] {
  const buckets = new Set<string>([platform.names.stateBucket]);
  const asgs = new Set<string>();
  for (const cluster of platform.clusters) {
    const names = platform.namesOf(cluster);
    buckets.add(names.etcdBackupBucket);
    buckets.add(names.appBackupBucket);
    if (names.etcdBackupReplicaBucket) buckets.add(names.etcdBackupReplicaBucket);
    for (const az of cluster.availabilityZones) asgs.add(names.controlPlaneAsg(az));
  }
  return [
    { type: 'aws_s3_bucket', nameAttribute: 'bucket', names: buckets, why: 'state or backup bucket' },
    { type: 'aws_kms_key', why: 'KMS key (data encrypted with it becomes unreadable)' },
    { type: 'aws_autoscaling_group', nameAttribute: 'name', names: asgs, why: 'control-plane ASG (etcd quorum)' },
  ];
}

function matches(rule: ProtectedResourceRule, change: ChangedResource): boolean {
  if (rule.type !== change.type) return false;
  if (!rule.nameAttribute || !rule.names) return true;
  const name = change.before?.[rule.nameAttribute];
  return typeof name === 'string' && rule.names.has(name);
}

export function protectedDestroys(summary: PlanSummary, rules: readonly ProtectedResourceRule[]): ProtectedDestroy[] {
  const found: ProtectedDestroy[] = [];
  for (const change of [...summary.deletions, ...summary.replacements]) {
    const rule = rules.find((r) => matches(r, change));
    if (rule) found.push({ address: change.address, kind: change.kind as 'delete' | 'replace', why: rule.why });
  }
  return found;
}

export interface GateDecision {
  readonly allowed: boolean;
  readonly destroys: readonly ProtectedDestroy[];
  readonly message: string;
}

/** What a closed gate tells the reader to do (packages/pipeline/README.md, Protected destroys). */
export const UNBLOCK_HINT = `To go on: add the "${PROTECTED_DESTROY_LABEL}" label to the merged pull request that meant the destroy, then re-run the failed apply job; to keep the resources, revert the change instead.`;

/** Whether an apply may go on, given the protected destroys in its plan and the labels of the pull requests it applies. */
export function protectedDestroyGate(destroys: readonly ProtectedDestroy[], labels: readonly string[], stack: string): GateDecision {
  if (destroys.length === 0) return { allowed: true, destroys, message: `${stack}: no protected resource is destroyed.` };
  const list = destroys.map((d) => `  - ${d.address} (${d.kind}: ${d.why})`).join('\n');
  if (labels.includes(PROTECTED_DESTROY_LABEL)) {
    return { allowed: true, destroys, message: `${stack}: destroying protected resources, allowed by the "${PROTECTED_DESTROY_LABEL}" label:\n${list}` };
  }
  return {
    allowed: false,
    destroys,
    message: `${stack}: the plan destroys protected resources and no pull request merged since the last apply has the "${PROTECTED_DESTROY_LABEL}" label; apply stopped:\n${list}\n${UNBLOCK_HINT}`,
  };
}
