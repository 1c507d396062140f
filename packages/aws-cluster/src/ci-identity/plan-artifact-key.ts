import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { Construct } from 'constructs';
import { policyDocument, renderPolicy, type PolicyDocument } from '../iam/policy-document';
import { invalidProp } from '../private/validation';

export interface PlanArtifactKeyProps {
  /** `alias/<...>` (platform-config `planArtifactKeyAlias`): the pipeline names the key by it. */
  readonly aliasName: string;
  /** The account that owns the key: its root administers it (never uses it). */
  readonly accountId: string;
  /** The role that seals approved plans (the merge's plan job): GenerateDataKey only. */
  readonly sealerRoleArn: string;
  /** The role that applies them (the protected environment): Decrypt only. */
  readonly openerRoleArn: string;
  /** Encryption-context pair every use must carry (platform-config `PLAN_ARTIFACT_KEY_CONTEXT`). */
  readonly context: { readonly key: string; readonly value: string };
  /** @default 7 (a sealed plan lives a day; nothing of value outlives it) */
  readonly deletionWindowInDays?: number;
}

/**
 * Administration of the key by the account (through IAM): everything but using it. No
 * `kms:*`, no Encrypt, Decrypt, GenerateDataKey or ReEncrypt, no CreateGrant (a grant would be
 * a second way to use it), so no identity policy, AdministratorAccess included, opens it.
 */
export const PLAN_KEY_ADMIN_ACTIONS = [
  'kms:Describe*',
  'kms:Get*',
  'kms:List*',
  'kms:Put*',
  'kms:Update*',
  'kms:Enable*',
  'kms:Disable*',
  'kms:Revoke*',
  'kms:RetireGrant',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
  'kms:CreateAlias',
  'kms:DeleteAlias',
  'kms:RotateKeyOnDemand',
] as const;

/** The key policy: the account administers, the sealer only generates data keys, the opener only decrypts, both under the context. */
export function planArtifactKeyPolicy(props: Pick<PlanArtifactKeyProps, 'accountId' | 'sealerRoleArn' | 'openerRoleArn' | 'context'>): PolicyDocument {
  const condition = { StringEquals: { [`kms:EncryptionContext:${props.context.key}`]: props.context.value } };
  return policyDocument(
    { Sid: 'AccountAdministersOnly', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${props.accountId}:root` }, Action: [...PLAN_KEY_ADMIN_ACTIONS], Resource: '*' },
    { Sid: 'MergePlanSealsOnly', Effect: 'Allow', Principal: { AWS: props.sealerRoleArn }, Action: 'kms:GenerateDataKey', Resource: '*', Condition: condition },
    { Sid: 'ApplyOpensOnly', Effect: 'Allow', Principal: { AWS: props.openerRoleArn }, Action: 'kms:Decrypt', Resource: '*', Condition: condition },
  );
}

/**
 * The symmetric key that seals approved plans between the merge's plan job and its apply job
 * (packages/pipeline `plan-artifact.ts`): a plan file holds prior state, secrets included.
 * Yearly rotation; the key policy, not IAM, decides who uses it.
 */
export class PlanArtifactKey extends Construct {
  readonly keyArn: string;

  constructor(scope: Construct, id: string, props: PlanArtifactKeyProps) {
    super(scope, id);
    if (!props.aliasName.startsWith('alias/') || props.aliasName.startsWith('alias/aws/')) throw invalidProp('PlanArtifactKey', 'aliasName', props.aliasName, 'a name starting with "alias/" (not "alias/aws/")');
    if (!props.context.key || !props.context.value) throw invalidProp('PlanArtifactKey', 'context', props.context, 'a non-empty encryption-context key and value');
    if (props.sealerRoleArn === props.openerRoleArn) throw invalidProp('PlanArtifactKey', 'openerRoleArn', props.openerRoleArn, 'a role other than the sealer (no role may both seal and open)');
    const window = props.deletionWindowInDays ?? 7;
    if (!Number.isInteger(window) || window < 7 || window > 30) throw invalidProp('PlanArtifactKey', 'deletionWindowInDays', window, '7 to 30 days');
    const key = new KmsKey(this, 'key', {
      description: 'Seals approved terraform plans between the merge plan job and the apply job',
      enableKeyRotation: true,
      deletionWindowInDays: window,
      policy: renderPolicy(planArtifactKeyPolicy(props)),
    });
    new KmsAlias(this, 'alias', { name: props.aliasName, targetKeyId: key.keyId });
    this.keyArn = key.arn;
  }
}
