import { ServiceAccountIdentity, type ServiceAccountIdentityStage } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { clusterInput, platform, Synth, synthCluster, type Attributes } from './support';

/*
 * What each identity stage keeps on AWS for a cluster that ran before IRSA. The addresses below
 * are those the pre-IRSA production stack had (synthesized at f9d1660, the last commit before the
 * add-ons' rights moved to workload roles): a stage before `complete` must declare exactly these,
 * or the apply of stage (a) would destroy them (and with the user, the database's WAL archiving).
 */
const PRE_IRSA_ADDRESSES = [
  // The cloud controller's policy was the control-plane role's own (construct id policy-cloud-controller) until it got its role.
  'aws_iam_role_policy.control-plane-role_policy-cloud-controller_09A0B0C9',
  'aws_iam_role_policy.control-plane-role_policy-cluster-autoscaler_AE5A74F8',
  'aws_iam_role_policy.control-plane-role_policy-ebs-csi-controller_E0956965',
  'aws_iam_role_policy.node-termination_handler-policy_87F8506B',
  'aws_iam_user.app-backup-user_B1BA8043',
  'aws_iam_user_policy.app-backup-user_policy_A0E77DCF',
];

const synthAt = (stage: ServiceAccountIdentityStage) =>
  synthCluster(
    platform((input) => (clusterInput(input, 'production').serviceAccountIdentity = ServiceAccountIdentity.of(stage))),
    'production',
  );
const stages = { 'accept-issuer': synthAt('accept-issuer'), 'sign-with-issuer': synthAt('sign-with-issuer'), 'web-identity': synthAt('web-identity'), complete: synthAt('complete') };

const addresses = (s: Synth) => Object.entries(s.json.resource as Record<string, Record<string, unknown>>).flatMap(([type, byId]) => Object.keys(byId).map((id) => `${type}.${id}`));
const resource = (s: Synth, address: string): Attributes => {
  const [type, id] = address.split('.');
  return s.json.resource[type][id];
};
const workloadPolicy = (s: Synth, roleName: string) => {
  const [roleId] = s.resources('aws_iam_role').find(([, r]) => r.name === roleName) as [string, Attributes];
  return Synth.policy((s.values('aws_iam_role_policy').find((p) => p.role === `\${aws_iam_role.${roleId}.name}`) as Attributes).policy);
};

describe('identity stages in the cluster stack', () => {
  it.each(['accept-issuer', 'sign-with-issuer', 'web-identity'] as const)('%s keeps the add-ons’ node-role rights and the backup user at their pre-IRSA addresses', (stage) => {
    const s = stages[stage];
    expect(addresses(s).filter((a) => PRE_IRSA_ADDRESSES.includes(a)).sort()).toEqual(PRE_IRSA_ADDRESSES);
    expect(resource(s, 'aws_iam_user.app-backup-user_B1BA8043').name).toBe('production-app-backups');
    // The same rights the workload roles get: the fallback is exactly what the pods had.
    expect(Synth.policy(resource(s, 'aws_iam_role_policy.control-plane-role_policy-ebs-csi-controller_E0956965').policy)).toEqual(workloadPolicy(s, 'production-irsa-ebs-csi-controller'));
    expect(Synth.policy(resource(s, 'aws_iam_role_policy.control-plane-role_policy-cluster-autoscaler_AE5A74F8').policy)).toEqual(workloadPolicy(s, 'production-irsa-cluster-autoscaler'));
    expect(Synth.policy(resource(s, PRE_IRSA_ADDRESSES[0]).policy)).toEqual(workloadPolicy(s, 'production-irsa-cloud-controller'));
    expect(Synth.policy(resource(s, 'aws_iam_role_policy.node-termination_handler-policy_87F8506B').policy)).toEqual(workloadPolicy(s, 'production-irsa-node-termination-handler'));
    expect(Synth.policy(resource(s, 'aws_iam_user_policy.app-backup-user_policy_A0E77DCF').policy)).toEqual(workloadPolicy(s, 'production-irsa-postgres-backups'));
    // Terraform never creates the key: the operator's stays outside the state.
    expect(s.resources('aws_iam_access_key')).toEqual([]);
    expect(s.json.output.app_backup_iam_user.value).toBe('${aws_iam_user.app-backup-user_B1BA8043.name}');
  });

  it('creates the issuer bucket, the OIDC provider and the workload roles from the first stage on', () => {
    const identityResources = (s: Synth) => addresses(s).filter((a) => /^aws_(s3_bucket|iam_openid_connect_provider)\.service-account|^aws_iam_role\.workload-roles/.test(a)).sort();
    expect(identityResources(stages['accept-issuer'])).toEqual(identityResources(stages.complete));
    expect(identityResources(stages.complete).filter((a) => a.startsWith('aws_iam_role.workload-roles'))).toHaveLength(5);
  });

  it('complete drops exactly those six resources; every other address is the same in every stage', () => {
    const complete = addresses(stages.complete).sort();
    expect(complete.filter((a) => PRE_IRSA_ADDRESSES.includes(a))).toEqual([]);
    for (const s of Object.values(stages)) expect(addresses(s).filter((a) => !PRE_IRSA_ADDRESSES.includes(a)).sort()).toEqual(complete);
    expect(stages.complete.json.output.app_backup_iam_user).toBeUndefined();
  });
});
