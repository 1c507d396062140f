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

/**
 * The Node objects a cluster's kubelets and its cloud controller manager keep, from the instances
 * moto runs in the cluster's ASGs: one Node per running instance, named by its private DNS name,
 * `topology.kubernetes.io/zone` (and the legacy `failure-domain` label) from its Availability
 * Zone, `spec.providerID` `aws:///<zone>/<instance id>`, the kubeadm control-plane label and
 * NoSchedule taint on control-plane instances, and Ready once the instance runs (the kubelet's
 * first status). A Node whose instance is gone or no longer running is deleted (the cloud
 * controller's node lifecycle). Not modelled: how long a real node takes to join.
 */
export function syncNodes(api: FakeKubeApi, instances: readonly AsgInstance[], isControlPlane: (asg: string) => boolean): { added: string[]; removed: string[] } {
  const running = instances.filter((i) => i.state === 'running' && i.privateDnsName);
  const wanted = new Map(running.map((i) => [i.privateDnsName, i]));
  const added: string[] = [];
  const removed: string[] = [];
  for (const node of api.all('v1', 'Node')) {
    const name = String((node.metadata as Obj).name);
    if (!wanted.has(name)) {
      api.remove({ apiVersion: 'v1', kind: 'Node', name });
      removed.push(name);
    }
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
    api.writeStatus({ apiVersion: 'v1', kind: 'Node', name }, { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }] });
    added.push(name);
  }
  return { added, removed };
}
