/* eslint-disable @typescript-eslint/no-explicit-any -- assertions walk parsed YAML */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultPlatform } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { synthClusterTree } from '../src';
import { coldStart, converged, freshNode, type FirstBootObjects } from './support/cold-start-model';

const platform = defaultPlatform();

/** The first-boot objects exactly as Flux applies them from clusters/<cluster>/ (node-bootstrap installs the same, see its flux test). */
function rendered(cluster: string): FirstBootObjects {
  const tree = synthClusterTree(platform, cluster);
  const objects = (file: string) => parseAllDocuments(tree[file]!).map((d) => d.toJS() as any);
  const values = (file: string, name: string) => objects(file).find((o) => o.kind === 'HelmRelease' && o.metadata.name === name).spec.values;
  return {
    cilium: values('infrastructure/controllers/cilium.yaml', 'cilium'),
    cloudController: values('infrastructure/controllers/aws-cloud-controller-manager.yaml', 'aws-cloud-controller-manager'),
    fluxOperator: values('flux-system/flux.yaml', 'flux-operator'),
    fluxInstance: objects('flux-system/flux.yaml').find((o) => o.kind === 'FluxInstance'),
  };
}

const beforeFix = parse(readFileSync(join(__dirname, 'fixtures', 'first-boot-before-cold-start-fix.yaml'), 'utf8')) as FirstBootObjects;

describe('cold start on the first control-plane node (tainted, no zone label, NotReady)', () => {
  it('the values before the fix deadlock: no operator without a zone label, no zone label without the cloud controller, no cloud controller on a NotReady node', () => {
    const model = coldStart(beforeFix);
    expect(converged(model, beforeFix)).toBe(false);
    const pending = Object.fromEntries(model.pending().map((p) => [p.pod, p.reasons]));
    expect(pending['cilium-operator#1']).toEqual(["cp-a: didn't match pod topology spread constraints (missing required label)"]);
    expect(pending['aws-cloud-controller-manager@cp-a']).toEqual(['cp-a: no pod created by the DaemonSet controller, had untolerated taint {node.kubernetes.io/not-ready: } (NoSchedule)']);
    expect(pending['flux-operator#1']).toEqual(['cp-a: had untolerated taint {node.kubernetes.io/not-ready: } (NoSchedule)']);
    // Only the agent (it tolerates everything) ever starts; the node never gets Ready or a zone.
    expect(model.events).toEqual(['scheduled cilium-agent@cp-a on cp-a (running)']);
    expect(model.nodes[0]!.taints.map((t) => t.key)).toContain('node.kubernetes.io/not-ready');
  });

  it.each(platform.clusters.map((c) => c.name))('%s: the first-boot add-ons converge on the lone first node, in order', (cluster) => {
    const objects = rendered(cluster);
    const model = coldStart(objects);
    expect(converged(model, objects), JSON.stringify(model.pending(), null, 1)).toBe(true);
    expect(model.events).toEqual([
      'scheduled cilium-agent@cp-a on cp-a (running)',
      'scheduled cilium-operator#1 on cp-a (running)',
      'scheduled aws-cloud-controller-manager@cp-a on cp-a (running)',
      'scheduled flux-operator#1 on cp-a (waits for the CNI)',
      'node cp-a Ready: Cilium wrote the CNI config, not-ready taint removed',
      'node cp-a initialised by the cloud controller: zone zone-a, uninitialized taint removed',
      'flux-operator reconciles the FluxInstance: installs the Flux controllers',
      'scheduled source-controller#1 on cp-a (running)',
      'scheduled kustomize-controller#1 on cp-a (running)',
      'scheduled helm-controller#1 on cp-a (running)',
      'scheduled notification-controller#1 on cp-a (running)',
    ]);
    // The second operator replica waits for a second node (the chart's required hostname
    // anti-affinity; its host port is the first filter to say so); it blocks nothing.
    expect(model.pending()).toEqual([{ pod: 'cilium-operator#2', reasons: ["cp-a: didn't have free ports for the requested pod ports"] }]);
  });

  it('a replica placed on a node that has no zone yet cannot be zone-aware (ScheduleAnyway); once zones exist, the spread puts the replacement in another zone', () => {
    const objects = rendered('production');
    const model = coldStart(objects);
    // A worker of zone a registers first, then the control-plane node of zone b: the pending
    // replica is placed as soon as a second node exists, before the cloud controller labels it.
    model.addNode(freshNode('worker-a1', 'zone-a', 'worker'));
    model.addNode(freshNode('cp-b', 'zone-b', 'control-plane'));
    model.settle();
    expect(converged(model, objects), JSON.stringify(model.pending(), null, 1)).toBe(true);
    expect(model.nodesOf('cilium-operator').map((n) => n.name)).toEqual(['cp-a', 'worker-a1']);
    expect(model.nodesOf('aws-cloud-controller-manager').map((n) => n.name)).toEqual(['cp-a', 'cp-b']);

    // With zone labels in place, the replacement of a lost replica avoids zone a although a
    // zone-a worker comes first.
    model.addNode(freshNode('worker-a2', 'zone-a', 'worker'));
    model.settle();
    model.removeNode('worker-a1');
    model.settle();
    expect(model.nodesOf('cilium-operator').map((n) => `${n.name} ${n.labels['topology.kubernetes.io/zone']}`)).toEqual(['cp-a zone-a', 'cp-b zone-b']);
    expect(model.pending()).toEqual([]);
  });
});
