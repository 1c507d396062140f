import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import type { WorkloadIdentity, WorkloadIdentityId } from '@platform/platform-config';
import { Construct } from 'constructs';
import { policyDocument, renderPolicy, type PolicyDocument } from '../iam/policy-document';
import { invalidProp } from '../private/validation';

/** A policy for every declared identity: a new id in platform-config without one here does not compile. */
export type WorkloadPolicies = Readonly<Record<WorkloadIdentityId, PolicyDocument>>;

export interface WorkloadRolesProps {
  /** ARN of the cluster's IAM OIDC provider (names.serviceAccountIssuer.providerArn). */
  readonly providerArn: string;
  /** The issuer's host (`names.serviceAccountIssuer.host`): IAM's condition-key prefix for its tokens. */
  readonly issuerHost: string;
  /** The audience the pods' projected tokens carry (`sts.amazonaws.com`). */
  readonly audience: string;
  /** The identities the cluster runs (platform-config workloadIdentitiesOf): one role each. */
  readonly identities: readonly WorkloadIdentity[];
  readonly policies: WorkloadPolicies;
}

/**
 * One IAM role per workload identity, assumable only with a web-identity token of this cluster's
 * issuer whose `sub` is exactly that identity's service account and whose `aud` is STS:
 * StringEquals on both, never StringLike, so no other service account, namespace or audience
 * matches. Each role carries only its identity's policy.
 */
export class WorkloadRoles extends Construct {
  /** Role ARN by identity id (tokens). */
  readonly roleArns: Readonly<Partial<Record<WorkloadIdentityId, string>>>;
  /** The trust documents by id, as objects (tests read them). */
  readonly trustPolicies: Readonly<Partial<Record<WorkloadIdentityId, PolicyDocument>>>;

  constructor(scope: Construct, id: string, props: WorkloadRolesProps) {
    super(scope, id);
    if (props.identities.length === 0) throw invalidProp('WorkloadRoles', 'identities', props.identities, 'at least one workload identity');
    if (!/^[a-z0-9.-]+(\/[^\s*]*)?$/.test(props.issuerHost)) throw invalidProp('WorkloadRoles', 'issuerHost', props.issuerHost, 'the issuer URL without https:// and without wildcards');
    const seen = new Set<string>();
    for (const identity of props.identities) {
      if (seen.has(identity.id)) throw invalidProp('WorkloadRoles', 'identities', identity.id, 'each identity once (one role per service account)');
      seen.add(identity.id);
      if (/[*?]/.test(identity.subject)) throw invalidProp('WorkloadRoles', `identities.${identity.id}.subject`, identity.subject, 'an exact system:serviceaccount:<namespace>:<name>, no wildcard');
    }

    const roleArns: Partial<Record<WorkloadIdentityId, string>> = {};
    const trustPolicies: Partial<Record<WorkloadIdentityId, PolicyDocument>> = {};
    for (const identity of props.identities) {
      const trust = policyDocument({
        Effect: 'Allow',
        Principal: { Federated: props.providerArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: { StringEquals: { [`${props.issuerHost}:sub`]: identity.subject, [`${props.issuerHost}:aud`]: props.audience } },
      });
      const role = new IamRole(this, identity.id, {
        name: identity.roleName,
        description: `${identity.subject}: ${identity.purpose}`.slice(0, 1000),
        assumeRolePolicy: renderPolicy(trust),
        // The SDKs refresh web-identity credentials themselves; an hour bounds a leaked session.
        maxSessionDuration: 3600,
      });
      new IamRolePolicy(this, `${identity.id}-policy`, { name: identity.id, role: role.name, policy: renderPolicy(props.policies[identity.id]) });
      roleArns[identity.id] = role.arn;
      trustPolicies[identity.id] = trust;
    }
    this.roleArns = roleArns;
    this.trustPolicies = trustPolicies;
  }
}
