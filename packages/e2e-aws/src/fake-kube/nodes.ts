import type { FakeKubeApi } from '../fake-kube-api';
import type { Obj } from './patch';

/** One EC2 instance of a cluster's ASGs, as moto describes it. */
export interface AsgInstance {
  readonly instanceId: string;
  /** The instance's private DNS name: the Node name kubeadm registers (`nodeRegistration.name`). */
  readonly privateDnsName: string;
  readonly availabilityZone: string;
  readonly asg: string;
  /** EC2's state (`running`, `pending`, `shutting-down`, `terminated`, …). */
  readonly state: string;
}

const MANAGER = 'kubelet';

/** How many times the Nodes were read through the API (`GET /api/v1/nodes`, lists and single reads). */
export function nodeReads(api: FakeKubeApi): number {
  return api.requests.filter((r) => /^GET \/api\/v1\/nodes(?:[/?]|$)/.test(r)).length;
}

const READY = { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' };
// What a kubelet posts while its CNI plugin is not up yet (it registers before the CNI DaemonSet runs on it).
const NOT_READY = { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized' };

/**
 * The Node objects a cluster's kubelets and its cloud controller manager keep, from the instances
 * moto runs in the cluster's ASGs: one Node per running instance, named by its private DNS name,
 * `topology.kubernetes.io/zone` (and the legacy `failure-domain` label) from its Availability
 * Zone, `spec.providerID` `aws:///<zone>/<instance id>`, the kubeadm control-plane label and
 * NoSchedule taint on control-plane instances. A Node whose instance is gone or no longer running
 * is deleted (the cloud controller's node lifecycle).
 *
 * Without `joining` the Nodes are registered Ready (a cluster that was up before the run). With
 * it a new Node registers NotReady, as a kubelet does before its CNI is up, and turns Ready at the
 * first sync after its Nodes were read through the API at least once: whoever waits for it sees
 * it NotReady and must poll, however fast or slow the run is. `joining` keeps, per Node name, the
 * read count when it registered. Not modelled: how long a real node takes to join.
 */
export function syncNodes(
  api: FakeKubeApi,
  instances: readonly AsgInstance[],
  isControlPlane: (asg: string) => boolean,
  joining?: Map<string, number>,
): { added: string[]; removed: string[]; readied: string[] } {
  const running = instances.filter((i) => i.state === 'running' && i.privateDnsName);
  const wanted = new Map(running.map((i) => [i.privateDnsName, i]));
  const added: string[] = [];
  const removed: string[] = [];
  const readied: string[] = [];
  const reads = nodeReads(api);
  for (const node of api.all('v1', 'Node')) {
    const name = String((node.metadata as Obj).name);
    if (!wanted.has(name)) {
      api.remove({ apiVersion: 'v1', kind: 'Node', name });
      joining?.delete(name);
      removed.push(name);
    }
  }
  for (const [name, registeredAt] of joining ?? []) {
    if (reads <= registeredAt) continue;
    api.writeStatus({ apiVersion: 'v1', kind: 'Node', name }, { conditions: [READY] });
    joining!.delete(name);
    readied.push(name);
  }
  for (const [name, i] of wanted) {
    if (api.read({ apiVersion: 'v1', kind: 'Node', name })) continue;
    const controlPlane = isControlPlane(i.asg);
    api.create(
      {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name,
          labels: {
            'kubernetes.io/hostname': name,
            'topology.kubernetes.io/zone': i.availabilityZone,
            'failure-domain.beta.kubernetes.io/zone': i.availabilityZone,
            ...(controlPlane ? { 'node-role.kubernetes.io/control-plane': '' } : {}),
          },
        },
        spec: { providerID: `aws:///${i.availabilityZone}/${i.instanceId}`, ...(controlPlane ? { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] } : {}) },
      },
      MANAGER,
    );
    api.writeStatus({ apiVersion: 'v1', kind: 'Node', name }, { conditions: [joining ? NOT_READY : READY] });
    joining?.set(name, reads);
    added.push(name);
  }
  return { added, removed, readied };
}
