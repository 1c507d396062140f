/**
 * IAM policy documents as typed values: the compiler checks their shape, tests read them as
 * objects, and they are rendered to JSON once, when attached.
 */
export type PolicyEffect = 'Allow' | 'Deny';

export type ConditionOperator =
  | 'StringEquals'
  | 'StringLike'
  | 'StringNotEquals'
  | 'StringNotLike'
  | 'ArnLike'
  | 'ArnNotLike'
  | 'ArnEquals'
  | 'Bool'
  | 'ForAnyValue:StringEquals'
  | 'ForAllValues:StringEquals';

export type ConditionValue = string | boolean | readonly string[];
export type PolicyConditions = Partial<Record<ConditionOperator, Readonly<Record<string, ConditionValue>>>>;

export type PolicyPrincipal =
  | { readonly Service: string | readonly string[] }
  | { readonly Federated: string }
  | { readonly AWS: string | readonly string[] };

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: PolicyEffect;
  readonly Action: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Principal?: PolicyPrincipal;
  readonly Condition?: PolicyConditions;
}

export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly PolicyStatement[];
}

export function policyDocument(...statements: PolicyStatement[]): PolicyDocument {
  return { Version: '2012-10-17', Statement: statements };
}

/** JSON for an IAM resource; tokens inside (ARNs) become Terraform references at synth. */
export function renderPolicy(document: PolicyDocument): string {
  return JSON.stringify(document);
}

/** Trust policy letting an AWS service assume a role. */
export function serviceTrustPolicy(service: string): PolicyDocument {
  return policyDocument({ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' });
}
