/* eslint-disable @typescript-eslint/no-explicit-any -- assertions walk parsed YAML */
import { defaultPlatform, loadPlatform, platformInput, sqsQueueUrl } from '@platform/platform-config';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { addOnContext, CONTROL_PLANE_NODE_SELECTOR, FAST_EVICTION_SECONDS, NodeTerminationHandler, NODE_TERMINATION_HANDLER_RELEASE, synthClusterTree } from '../src';

const platform = defaultPlatform();
const FILE = 'infrastructure/controllers/node-termination-handler.yaml';

function objectsOf(cluster: string): any[] {
  const text = synthClusterTree(platform, cluster)[FILE];
  if (text === undefined) throw new Error(`no ${FILE} in ${cluster}`);
  return parseAllDocuments(text).map((d) => d.toJS());
}

/**
 * Labels the chart (0.27.6, templates/deployment.yaml) gives the queue-mode Deployment's pods:
 * its selector labels (name, instance, component `deployment`) plus `k8s-app`.
 */
const chartPodLabels = { 'app.kubernetes.io/name': 'aws-node-termination-handler', 'app.kubernetes.io/instance': NODE_TERMINATION_HANDLER_RELEASE.name, 'app.kubernetes.io/component': 'deployment', 'k8s-app': 'aws-node-termination-handler' };
const selects = (matchLabels: Record<string, string>, labels: Record<string, string>) => Object.entries(matchLabels).every(([k, v]) => labels[k] === v);

describe.each(platform.clusters.map((c) => c.name))('node termination handler (%s)', (cluster) => {
  const objects = objectsOf(cluster);
  const release = objects.find((o) => o.kind === 'HelmRelease');
  const values = release.spec.values;
  const definition = platform.cluster(cluster);
  const names = platform.namesOf(cluster);

  it('reads this cluster\'s queue in queue-processor mode, for this cluster\'s instances only', () => {
    expect(values).toMatchObject({
      enableSqsTerminationDraining: true,
      queueURL: sqsQueueUrl(definition.region, platform.settings.accountId!, names.nodeTermination.queue),
      awsRegion: definition.region,
      checkTagBeforeDraining: true,
      managedTag: names.clusterTagKey,
    });
    expect(values.queueURL).toBe(`https://sqs.${definition.region}.amazonaws.com/123456789012/${cluster}-node-termination`);
  });

  it('runs two replicas on control-plane nodes in different zones, on the pod network (its own role, not the node’s through IMDS)', () => {
    expect(values.replicas).toBe(2);
    expect(values.nodeSelector).toEqual(CONTROL_PLANE_NODE_SELECTOR);
    expect(values.tolerations).toContainEqual({ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' });
    expect(values.tolerations).toContainEqual({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: FAST_EVICTION_SECONDS });
    const zone = values.topologySpreadConstraints.find((c: any) => c.topologyKey === 'topology.kubernetes.io/zone');
    expect(zone).toMatchObject({ maxSkew: 1, whenUnsatisfiable: 'DoNotSchedule', nodeTaintsPolicy: 'Honor' });
    expect(selects(zone.labelSelector.matchLabels, chartPodLabels)).toBe(true);
    const patch = release.spec.postRenderers[0].kustomize.patches[0];
    expect(patch.target).toEqual({ kind: 'Deployment', name: 'aws-node-termination-handler' });
    // The chart's queue-mode Deployment says hostNetwork: false itself; the patch only adds the token.
    expect(JSON.parse(patch.patch).map((op: any) => op.path)).toEqual(['/spec/template/spec/volumes', '/spec/template/spec/containers/0/volumeMounts']);
    expect(patch.patch).not.toContain('hostNetwork');
  });

  it('has a PDB in clusters/: the chart renders podDisruptionBudget when replicas > 1 (templates/pdb.yaml), selecting its Deployment\'s pods', () => {
    expect(values.podDisruptionBudget).toEqual({ maxUnavailable: 1 });
    expect(values.replicas).toBeGreaterThan(1);
  });

  it('pins the chart from its OCI registry', () => {
    const source = objects.find((o) => o.kind === 'OCIRepository');
    expect(source.spec).toMatchObject({ url: 'oci://public.ecr.aws/aws-ec2/helm/aws-node-termination-handler', ref: { tag: '0.27.6' } });
  });
});

describe('NodeTerminationHandler validation', () => {
  it('rejects more replicas than control-plane zones', () => {
    expect(() => new NodeTerminationHandler({ replicas: 4 }).validate(addOnContext(platform, 'production'))).toThrow('node-termination-handler: replicas is 4; expected 2 to 3 (one per control-plane zone, spread is DoNotSchedule)');
  });
  it('rejects a non-positive drain grace period', () => {
    expect(() => new NodeTerminationHandler({ nodeTerminationGracePeriodSeconds: 0 }).validate(addOnContext(platform, 'production'))).toThrow('node-termination-handler: nodeTerminationGracePeriodSeconds is 0; expected a positive whole number of seconds');
  });
  it('refuses to render without the account id the queue URL names', () => {
    const input = structuredClone(platformInput) as any;
    delete input.settings.accountId;
    expect(() => new NodeTerminationHandler().validate(addOnContext(loadPlatform(input), 'production'))).toThrow(
      'node-termination-handler: awsIdentity is "node-termination-handler"; expected platform-config settings.accountId: the role ARN names the account',
    );
  });
});
