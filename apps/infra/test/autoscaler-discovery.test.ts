import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPlatform } from '@platform/platform-config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { synthInfra } from '../src/main';

/*
 * The two halves of cluster-autoscaler's discovery meet here: the flag the committed manifests
 * (clusters/<name>/, what Flux applies) give the autoscaler, and the tags aws-cluster puts on
 * the ASGs in the synthesized Terraform. Neither package's own tests see the other side.
 */
const platform = defaultPlatform();
const repoRoot = join(__dirname, '..', '..', '..');
let outdir: string;
beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'infra-autoscaler-'));
  await synthInfra(join(outdir, 'cdktf.out'));
});
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

interface AsgTag {
  readonly key: string;
  readonly value: string;
}
interface Asg {
  readonly name: string;
  readonly tag?: readonly AsgTag[];
}

/** The chart's rendering (templates/deployment.yaml): `--node-group-auto-discovery=asg:tag=<tags joined by ",">` when clusterName is set. */
function discoveryFlag(cluster: string): string {
  const file = join(repoRoot, 'clusters', cluster, 'infrastructure', 'controllers', 'cluster-autoscaler.yaml');
  const release = parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as { kind: string; spec: { values: { autoDiscovery: { clusterName?: string; tags: string[] }; extraArgs: Record<string, unknown>; cloudProvider?: string } } })
    .find((o) => o.kind === 'HelmRelease')!;
  const { autoDiscovery, extraArgs, cloudProvider } = release.spec.values;
  expect(cloudProvider ?? 'aws').toBe('aws');
  expect(autoDiscovery.clusterName, 'the chart renders the flag only with autoDiscovery.clusterName').toBe(cluster);
  // Neither a second discovery flag nor static node groups.
  expect(Object.keys(extraArgs).filter((k) => k === 'node-group-auto-discovery' || k === 'nodes')).toEqual([]);
  return `--node-group-auto-discovery=asg:tag=${autoDiscovery.tags.join(',')}`;
}

/** cluster-autoscaler's AWS rule: an ASG is discovered when it has every `key` (any value) or `key=value`. */
function discovers(flag: string, asg: Asg): boolean {
  const filters = flag.replace(/^--node-group-auto-discovery=asg:tag=/, '').split(',');
  return filters.every((f) => {
    const [key, value] = f.split('=');
    return (asg.tag ?? []).some((t) => t.key === key && (value === undefined || t.value === value));
  });
}

describe.each(platform.clusters.map((c) => c.name))('cluster-autoscaler discovery in %s', (cluster) => {
  const cfg = platform.cluster(cluster);
  const names = platform.namesOf(cluster);
  const asgs = () => Object.values(JSON.parse(readFileSync(join(outdir, 'cdktf.out', 'stacks', names.stack, 'cdk.tf.json'), 'utf8')).resource.aws_autoscaling_group as Record<string, Asg>);

  it('discovers exactly the worker ASGs, one per pool and AZ', () => {
    const flag = discoveryFlag(cluster);
    expect(flag).toBe(`--node-group-auto-discovery=asg:tag=${names.autoscalerDiscoveryTags.join(',')}`);
    const workers = cfg.workerPools.flatMap((p) => cfg.availabilityZones.map((az) => names.workerAsg(p, az))).sort();
    expect(asgs().filter((a) => discovers(flag, a)).map((a) => a.name).sort()).toEqual(workers);
  });

  it('leaves the control-plane ASGs out: they carry no autoscaler tag at all', () => {
    // Round-robin over the AZs, as ControlPlane places them.
    const zones = cfg.availabilityZones;
    const expected = Array.from({ length: cfg.controlPlane.count }, (_, i) => names.controlPlaneAsg(zones[i % zones.length]!, Math.floor(i / zones.length)));
    const controlPlane = asgs().filter((a) => expected.includes(a.name));
    expect(controlPlane).toHaveLength(cfg.controlPlane.count);
    const flag = discoveryFlag(cluster);
    for (const asg of controlPlane) {
      expect(discovers(flag, asg), asg.name).toBe(false);
      expect((asg.tag ?? []).filter((t) => t.key.startsWith('k8s.io/cluster-autoscaler/')), asg.name).toEqual([]);
    }
  });
});
