import { FAILOVER_FIELD_MANAGER, type ClusterDefinition } from '@platform/platform-config';
import type { Workload } from '../database';
import type { StepContext } from '../step';
import { kube } from './kube';

/**
 * Every app Deployment of `cluster` to 0 replicas under FAILOVER_FIELD_MANAGER (kustomize-controller
 * takes over `kubectl*` managers, not this one; Git sets no replicas, and an HPA leaves 0 alone).
 */
export async function scaleAppsToZero(ctx: StepContext, cluster: ClusterDefinition, workload: Workload): Promise<void> {
  for (const app of workload.apps) {
    await ctx.cli.mutate('kubectl', kube(cluster, 'patch', 'deployment', app.name, '-n', app.namespace, '--type', 'merge', '-p', '{"spec":{"replicas":0}}', `--field-manager=${FAILOVER_FIELD_MANAGER}`));
  }
}
