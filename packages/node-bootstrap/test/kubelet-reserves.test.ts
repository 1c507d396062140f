import { INSTANCE_TYPES, instanceTypeAllocatable } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { renderUserData, type UserDataInput } from '../src';
import { inputFor, platform } from './harness';

type Doc = Record<string, unknown> & { kind?: string };
const files = (input: UserDataInput) => (parse(renderUserData(input)) as { write_files: { path: string; content: string }[] }).write_files;
const docs = (input: UserDataInput, path: string): Doc[] => {
  const file = files(input).find((f) => f.path === path);
  if (!file) throw new Error(`${path} is not in the user data`);
  return parseAllDocuments(file.content).map((d) => d.toJSON() as Doc);
};

/** RFC 7386 JSON merge patch, as kubeadm applies a `+merge` patch file. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

const milli = (q: string): number => (q.endsWith('m') ? Number(q.slice(0, -1)) : Number(q) * 1000);
const mebi = (q: string): number => {
  const m = /^(\d+)(Mi|Gi)$/.exec(q);
  if (!m) throw new Error(`unexpected memory quantity ${q}`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
};

/**
 * The kubelet's memory capacity (MemTotal) of the types the shipped clusters run, as literals, not
 * through platform-config's memTotalMiB: EC2's nominal size less the overhead Karpenter measured on
 * launched instances (github.com/aws/karpenter-provider-aws,
 * pkg/providers/instancetype/zz_generated.memory_overhead.go, `memoryOverheadBytes`, bytes as
 * listed there, rounded up to whole MiB). 7th-generation Intel types have no row: their
 * 6th-generation sibling's (same Nitro platform and size), as instance-types.ts documents.
 */
const MIB = 1024 * 1024;
const KARPENTER_MEM_TOTAL_MIB: Readonly<Record<string, number>> = {
  't3.medium': 4096 - Math.ceil(264_945_664 / MIB), // 3843
  't3.large': 8192 - Math.ceil(382_386_176 / MIB), // 7827
  'm6i.large': 8192 - Math.ceil(424_321_024 / MIB), // 7787
  'm6i.xlarge': 16384 - Math.ceil(703_729_664 / MIB), // 15712
  'c6i.xlarge': 8192 - Math.ceil(424_804_352 / MIB), // 7786
  'm7i.large': 8192 - Math.ceil(424_321_024 / MIB), // m6i.large's row
  'm7i.xlarge': 16384 - Math.ceil(703_729_664 / MIB), // m6i.xlarge's row
  'c7i.xlarge': 8192 - Math.ceil(424_804_352 / MIB), // c6i.xlarge's row
};

const variants = platform.clusters.flatMap((cluster) => [
  { label: `${cluster.name} control plane`, input: inputFor(cluster.name, 'control-plane'), types: [cluster.controlPlane.instanceType] },
  ...cluster.workerPools.map((pool) => ({ label: `${cluster.name} worker ${pool.name}`, input: inputFor(cluster.name, 'worker', pool.name), types: pool.instanceTypes })),
]);

describe('kubelet reserves', () => {
  it.each(variants)('$label: the kubelet kubeadm writes on the node keeps what ha-check\'s allocatable model subtracts, for each of its instance types', ({ input, types }) => {
    // The cluster-wide KubeletConfiguration (kubeadm's kubelet-config ConfigMap, every node's base).
    const shared = docs(inputFor(input.cluster.name, 'control-plane'), '/etc/node-bootstrap/kubeadm-init.yaml.tmpl').find((d) => d.kind === 'KubeletConfiguration');
    const patchPath = '/etc/node-bootstrap/kubeadm-patches/kubeletconfiguration+merge.yaml';
    const [patch] = docs(input, patchPath);
    // kubeadm reads the patch only from the directory its Init/JoinConfiguration names.
    const joinDoc = docs(input, '/etc/node-bootstrap/kubeadm-join.yaml.tmpl').find((d) => d.kind === 'JoinConfiguration');
    expect(joinDoc?.patches).toEqual({ directory: '/etc/node-bootstrap/kubeadm-patches' });
    if (input.role === 'control-plane') expect(docs(input, '/etc/node-bootstrap/kubeadm-init.yaml.tmpl').find((d) => d.kind === 'InitConfiguration')?.patches).toEqual({ directory: '/etc/node-bootstrap/kubeadm-patches' });
    const kubelet = mergePatch(shared, patch) as { kubeReserved: Record<string, string>; systemReserved: Record<string, string>; evictionHard: Record<string, string>; serverTLSBootstrap: boolean };
    expect(kubelet.serverTLSBootstrap).toBe(true);
    for (const type of types) {
      const info = INSTANCE_TYPES[type]!;
      const memTotal = KARPENTER_MEM_TOTAL_MIB[type];
      if (memTotal === undefined) throw new Error(`${type}: no literal MemTotal in KARPENTER_MEM_TOTAL_MIB; add its row from Karpenter's memoryOverheadBytes table`);
      const allocatable = {
        cpuMilli: info.vcpu * 1000 - milli(kubelet.kubeReserved.cpu) - milli(kubelet.systemReserved.cpu),
        // The kubelet's capacity is the kernel's MemTotal (cAdvisor), below the nominal size.
        memoryMiB: memTotal - mebi(kubelet.kubeReserved.memory) - mebi(kubelet.systemReserved.memory) - mebi(kubelet.evictionHard['memory.available']),
      };
      expect(allocatable, type).toEqual(instanceTypeAllocatable(type));
    }
    // A partial evictionHard would drop the kubelet's other defaults (disk pressure would never evict).
    expect(Object.keys(kubelet.evictionHard).sort()).toEqual(['imagefs.available', 'imagefs.inodesFree', 'memory.available', 'nodefs.available', 'nodefs.inodesFree']);
  });

  it('leave literal allocatable figures on two types, from Karpenter\'s measured MemTotal and the reserves the node writes', () => {
    // t3.large (staging's workers): 8192 − 365 MiB measured overhead = 7827 MemTotal; m6i.xlarge
    // (production's second worker type): 16384 − 672 = 15712. Less kubeReserved and the 100Mi hard-eviction threshold.
    expect(KARPENTER_MEM_TOTAL_MIB['t3.large']).toBe(7827);
    expect(KARPENTER_MEM_TOTAL_MIB['m6i.xlarge']).toBe(15712);
    expect(instanceTypeAllocatable('t3.large')).toEqual({ cpuMilli: 1930, memoryMiB: 7827 - 1844 - 100 });
    expect(instanceTypeAllocatable('m6i.xlarge')).toEqual({ cpuMilli: 3920, memoryMiB: 15712 - 2663 - 100 });
  });

  it('differ by instance type (a t3.large worker keeps less than an m7i.xlarge one)', () => {
    const reserved = (cluster: string, pool: string) => docs(inputFor(cluster, 'worker', pool), '/etc/node-bootstrap/kubeadm-patches/kubeletconfiguration+merge.yaml')[0]!.kubeReserved;
    expect(reserved('staging', 'general')).toEqual({ cpu: '70m', memory: '1844Mi' });
    expect(reserved('production', 'general')).toEqual({ cpu: '80m', memory: '2663Mi' });
  });
});
