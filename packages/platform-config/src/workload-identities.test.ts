import { describe, expect, it } from 'vitest';
import { defaultPlatform } from './default-platform';
import { WORKLOAD_IDENTITIES, WORKLOAD_IDENTITY_IDS, workloadIdentitiesOf, workloadIdentity } from './workload-identities';

const platform = defaultPlatform();

describe('workload identities', () => {
  it('declares each id once, keyed by itself, with a distinct service account', () => {
    expect(Object.keys(WORKLOAD_IDENTITIES)).toEqual([...WORKLOAD_IDENTITY_IDS]);
    for (const [key, identity] of Object.entries(WORKLOAD_IDENTITIES)) expect(identity.id).toBe(key);
    const subjects = WORKLOAD_IDENTITY_IDS.map((id) => `${WORKLOAD_IDENTITIES[id].namespace}/${WORKLOAD_IDENTITIES[id].serviceAccount}`);
    expect(new Set(subjects).size).toBe(subjects.length);
  });

  it('derives role name, exact subject and role ARN from the cluster’s issuer names', () => {
    const names = platform.namesOf('production');
    const identity = workloadIdentity(names, 'ebs-csi-controller');
    expect(identity.roleName).toBe('production-irsa-ebs-csi-controller');
    expect(identity.subject).toBe('system:serviceaccount:kube-system:ebs-csi-controller-sa');
    expect(identity.roleArn('123456789012')).toBe('arn:aws:iam::123456789012:role/production-irsa-ebs-csi-controller');
  });

  it('gives each shipped cluster the identities its definition needs, with cluster-unique role names', () => {
    const roles = platform.clusters.flatMap((c) => workloadIdentitiesOf(c, platform.namesOf(c)).map((i) => i.roleName));
    expect(new Set(roles).size).toBe(roles.length);
    for (const cluster of platform.clusters) expect(workloadIdentitiesOf(cluster, platform.namesOf(cluster)).map((i) => i.id)).toEqual([...WORKLOAD_IDENTITY_IDS]);
  });
});
