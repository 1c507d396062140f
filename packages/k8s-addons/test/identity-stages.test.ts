/* eslint-disable @typescript-eslint/no-explicit-any -- assertions walk parsed YAML of many shapes */
import { loadPlatform, platformInput, ServiceAccountIdentity, type ServiceAccountIdentityStage } from '@platform/platform-config';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { synthClusterTree } from '../src';

/*
 * A cluster that ran before IRSA keeps its add-ons' manifests until the stage whose pull request
 * switches them (web-identity), after its API servers already sign with the issuer STS trusts.
 * Where each AWS-calling pod gets credentials, as the AWS SDK chain would find them: environment
 * keys, then a web-identity token, then IMDS, which answers a pod only on the host network (hop limit 1).
 */

const platformAt = (stage: ServiceAccountIdentityStage) => {
  const input = structuredClone(platformInput) as any;
  for (const cluster of input.clusters) cluster.serviceAccountIdentity = ServiceAccountIdentity.of(stage);
  return loadPlatform(input);
};
const treeAt = (stage: ServiceAccountIdentityStage, cluster: string) => synthClusterTree(platformAt(stage), cluster);
const objectsOf = (text: string) => parseAllDocuments(text).map((d) => d.toJS() as any).filter(Boolean);
const release = (tree: Record<string, string>, file: string) => objectsOf(tree[file]).find((o) => o.kind === 'HelmRelease');

type Source = 'web-identity' | 'node-role (IMDS)' | 'none';

/** What a chart's controller pod ends up with: values, then the HelmRelease's post-render JSON patches. */
function helmPodSource(values: any, postRenderers: any[] | undefined): Source {
  const patches = (postRenderers ?? []).flatMap((p: any) => p.kustomize.patches.flatMap((x: any) => JSON.parse(x.patch)));
  const text = JSON.stringify(values) + JSON.stringify(patches);
  if (text.includes('AWS_ROLE_ARN') && text.includes('sts.amazonaws.com')) return 'web-identity';
  const hostNetwork = values.hostNetwork === true || patches.some((p: any) => p.path === '/spec/template/spec/hostNetwork' && p.value === true);
  return hostNetwork ? 'node-role (IMDS)' : 'none';
}

function sources(stage: ServiceAccountIdentityStage, cluster: string): Record<string, Source | string> {
  const tree = treeAt(stage, cluster);
  const ebs = release(tree, 'infrastructure/controllers/aws-ebs-csi-driver.yaml');
  const ca = release(tree, 'infrastructure/controllers/cluster-autoscaler.yaml');
  const nth = release(tree, 'infrastructure/controllers/node-termination-handler.yaml');
  const database = objectsOf(tree['apps/postgres.yaml']).find((o) => o.kind === 'Cluster');
  const s3 = database.spec.backup.barmanObjectStore.s3Credentials;
  return {
    ebs: helmPodSource(ebs.spec.values.controller, ebs.spec.postRenderers),
    autoscaler: helmPodSource(ca.spec.values, ca.spec.postRenderers),
    nth: helmPodSource(nth.spec.values, nth.spec.postRenderers),
    database: s3.inheritFromIAMRole ? (JSON.stringify(database.spec.env).includes('AWS_ROLE_ARN') ? 'web-identity' : 'none') : `secret ${s3.accessKeyId.name}/${s3.accessKeyId.key},${s3.secretAccessKey.key}`,
  };
}

describe('AWS credentials of the add-ons per identity stage', () => {
  it.each(['accept-issuer', 'sign-with-issuer'] as const)('%s: every AWS caller still uses the node role (host network) and the database its access key', (stage) => {
    expect(sources(stage, 'production')).toEqual({ ebs: 'node-role (IMDS)', autoscaler: 'node-role (IMDS)', nth: 'node-role (IMDS)', database: 'secret app-backup-s3/ACCESS_KEY_ID,ACCESS_SECRET_KEY' });
  });

  it.each(['web-identity', 'complete'] as const)('%s: every AWS caller uses its own web identity, none the host network', (stage) => {
    expect(sources(stage, 'production')).toEqual({ ebs: 'web-identity', autoscaler: 'web-identity', nth: 'web-identity', database: 'web-identity' });
  });

  it('the standby replays its primary’s archive with the same credentials as its own backups', () => {
    const replicaSource = (stage: ServiceAccountIdentityStage) =>
      objectsOf(treeAt(stage, 'dr')['apps/postgres.yaml']).find((o) => o.kind === 'Cluster').spec.externalClusters[0].barmanObjectStore.s3Credentials;
    expect(replicaSource('sign-with-issuer')).toEqual({ accessKeyId: { name: 'app-backup-s3', key: 'ACCESS_KEY_ID' }, secretAccessKey: { name: 'app-backup-s3', key: 'ACCESS_SECRET_KEY' } });
    expect(replicaSource('web-identity')).toEqual({ inheritFromIAMRole: true });
  });

  it('only the web-identity stage changes the manifests: (a) and (b) render the same tree, so do (c) and (d)', () => {
    for (const cluster of ['production', 'dr']) {
      expect(treeAt('sign-with-issuer', cluster)).toEqual(treeAt('accept-issuer', cluster));
      expect(treeAt('complete', cluster)).toEqual(treeAt('web-identity', cluster));
    }
  });
});
