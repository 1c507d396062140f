import type { FakeKubeApi } from '../fake-kube-api';
import type { Obj } from './patch';

/**
 * The Deployment controller as `kubectl rollout status` observes it: a tick after a spec change
 * `status.observedGeneration` catches up and `updatedReplicas`/`replicas` follow `spec.replicas`;
 * `readyReplicas`/`availableReplicas` reach it one tick later (pods starting). No pods are made:
 * nothing the tool runs reads a Deployment's pods.
 */
export function deploymentController(api: FakeKubeApi): void {
  for (const d of api.all('apps/v1', 'Deployment')) {
    const meta = d.metadata as Obj;
    const want = Number((d.spec as Obj | undefined)?.replicas ?? 1);
    const status = (d.status ?? {}) as Obj;
    const observed = status.observedGeneration === meta.generation;
    const ready = Number(status.readyReplicas ?? 0);
    const next: Obj = observed
      ? { ...status, readyReplicas: want, availableReplicas: want, replicas: want, updatedReplicas: want }
      : { ...status, observedGeneration: meta.generation, replicas: want, updatedReplicas: want, readyReplicas: Math.min(ready, want), availableReplicas: Math.min(ready, want) };
    const available = Number(next.availableReplicas) >= want;
    next.conditions = [
      { type: 'Available', status: available ? 'True' : 'False', reason: available ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable', message: available ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.' },
      { type: 'Progressing', status: 'True', reason: observed ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated', message: `ReplicaSet "${String(meta.name)}" ${observed ? 'has successfully progressed' : 'is progressing'}.` },
    ];
    api.writeStatus({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: meta.namespace as string, name: meta.name as string }, next);
  }
}
