/* eslint-disable @typescript-eslint/no-explicit-any -- assertions walk parsed YAML of many shapes */
import { defaultPlatform, loadPlatform, platformInput, WORKLOAD_IDENTITIES, WORKLOAD_IDENTITY_IDS } from '@platform/platform-config';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { addOnContext, defaultAddOns, EbsCsiDriver, synthClusterTree, webIdentity } from '../src';

const platform = defaultPlatform();
const ACCOUNT = platform.settings.accountId as string;

/** Every object of a cluster's tree, by file. */
const tree = (cluster: string) =>
  Object.entries(synthClusterTree(platform, cluster)).flatMap(([file, text]) => parseAllDocuments(text).map((d) => ({ file, object: d.toJS() as any })).filter((o) => o.object));

describe('webIdentity', () => {
  const ctx = addOnContext(platform, 'production');

  it('builds the role ARN, the SA annotation, the STS-audience token and the variables the SDKs read', () => {
    const aws = webIdentity(ctx, 'cluster-autoscaler');
    expect(aws.roleArn).toBe(`arn:aws:iam::${ACCOUNT}:role/production-irsa-cluster-autoscaler`);
    expect(aws.serviceAccountAnnotations).toEqual({ 'eks.amazonaws.com/role-arn': aws.roleArn });
    expect(aws.volume).toEqual({ name: 'aws-iam-token', projected: { sources: [{ serviceAccountToken: { audience: 'sts.amazonaws.com', expirationSeconds: 3600, path: 'token' } }] } });
    expect(aws.volumeMount).toEqual({ name: 'aws-iam-token', mountPath: '/var/run/secrets/eks.amazonaws.com/serviceaccount', readOnly: true });
    expect(aws.env).toEqual([
      { name: 'AWS_ROLE_ARN', value: aws.roleArn },
      { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token' },
      { name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' },
      { name: 'AWS_REGION', value: platform.cluster('production').region },
    ]);
  });

  it('points the token file into another directory (CloudNativePG’s /projected) and leaves AWS_REGION to a chart that sets it', () => {
    const aws = webIdentity(ctx, 'postgres-backups', { tokenDirectory: '/projected', regionFromChart: true });
    expect(aws.env.map((e) => e.name)).toEqual(['AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_STS_REGIONAL_ENDPOINTS']);
    expect(aws.env[1].value).toBe('/projected/token');
  });

  it('refuses an add-on with an identity when the platform has no account id (the role ARN names it)', () => {
    const input = structuredClone(platformInput) as any;
    delete input.settings.accountId;
    expect(() => new EbsCsiDriver().validate(addOnContext(loadPlatform(input), 'production'))).toThrow(
      'aws-ebs-csi-driver: awsIdentity is "ebs-csi-controller"; expected platform-config settings.accountId: the role ARN names the account',
    );
  });
});

describe('which add-ons get a role', () => {
  it('declares each identity on exactly one default add-on, and no other add-on has one', () => {
    const declared = defaultAddOns().flatMap((a) => (a.awsIdentity ? [[a.id, a.awsIdentity]] : []));
    expect(Object.fromEntries(declared)).toEqual({
      'aws-cloud-controller-manager': 'cloud-controller',
      'aws-ebs-csi-driver': 'ebs-csi-controller',
      'cluster-autoscaler': 'cluster-autoscaler',
      'node-termination-handler': 'node-termination-handler',
      postgres: 'postgres-backups',
    });
    expect(declared.map(([, id]) => id).sort()).toEqual([...WORKLOAD_IDENTITY_IDS].sort());
  });

  it.each(platform.clusters.map((c) => c.name))('%s: only the declaring add-ons’ files carry a role ARN or an STS token, each its own identity’s', (cluster) => {
    const carriers = new Map<string, Set<string>>();
    for (const { file, object } of tree(cluster)) {
      const text = JSON.stringify(object);
      const arns = [...text.matchAll(/arn:aws:iam::\d{12}:role\/([a-z0-9-]+)/g)].map((m) => m[1]);
      if (arns.length === 0 && !text.includes('sts.amazonaws.com')) continue;
      const set = carriers.get(file) ?? new Set<string>();
      arns.forEach((a) => set.add(a));
      carriers.set(file, set);
    }
    const role = (id: keyof typeof WORKLOAD_IDENTITIES) => platform.namesOf(cluster).serviceAccountIssuer.workloadRole(id);
    expect(Object.fromEntries([...carriers].map(([file, roles]) => [file, [...roles]]))).toEqual({
      'infrastructure/controllers/aws-cloud-controller-manager.yaml': [role('cloud-controller')],
      'infrastructure/controllers/aws-ebs-csi-driver.yaml': [role('ebs-csi-controller')],
      'infrastructure/controllers/cluster-autoscaler.yaml': [role('cluster-autoscaler')],
      'infrastructure/controllers/node-termination-handler.yaml': [role('node-termination-handler')],
      'apps/postgres.yaml': [role('postgres-backups')],
    });
  });

  it.each(platform.clusters.map((c) => c.name))('%s: the EBS CSI node DaemonSet gets nothing, the controller the identity’s service account', (cluster) => {
    const release = tree(cluster).find((o) => o.object.kind === 'HelmRelease' && o.object.metadata.name === 'aws-ebs-csi-driver')!.object;
    const { node, controller } = release.spec.values;
    expect(JSON.stringify(node)).not.toMatch(/AWS_|sts\.amazonaws\.com|role-arn/);
    expect(controller.serviceAccount.name).toBe(WORKLOAD_IDENTITIES['ebs-csi-controller'].serviceAccount);
    expect(controller.volumeMounts[0].mountPath).toBe(controller.env.find((e: any) => e.name === 'AWS_WEB_IDENTITY_TOKEN_FILE').value.replace(/\/token$/, ''));
  });
});
