import { FAILOVER_FIELD_MANAGER, type ClusterDefinition } from '@platform/platform-config';
import type { StepContext } from '../step';
import { FLUX_KUSTOMIZATIONS, kube } from './kube';

/**
 * The `kubectl patch` of a Flux Kustomization's `spec.suspend`, under FAILOVER_FIELD_MANAGER:
 * kubectl's own manager (`kubectl-patch`) starts with `kubectl`, which kustomize-controller
 * takes over, so its next sync of the parent (flux-system) would drop the field and resume.
 */
export function fluxSuspendArgs(cluster: Pick<ClusterDefinition, 'name'>, kustomization: string, suspend: boolean): string[] {
  return kube(cluster, 'patch', FLUX_KUSTOMIZATIONS, kustomization, '-n', 'flux-system', '--type', 'merge', '-p', JSON.stringify({ spec: { suspend } }), `--field-manager=${FAILOVER_FIELD_MANAGER}`);
}

/** Suspends (or resumes) `ctx.options.fluxKustomization` when it exists; returns whether it does. */
export async function setFluxSuspended(ctx: StepContext, cluster: ClusterDefinition, suspend: boolean): Promise<boolean> {
  const flux = ctx.options.fluxKustomization;
  const found = (await ctx.cli.read('kubectl', kube(cluster, 'get', FLUX_KUSTOMIZATIONS, flux, '-n', 'flux-system', '--ignore-not-found', '-o', 'name'))).trim();
  if (!found) return false;
  await ctx.cli.mutate('kubectl', fluxSuspendArgs(cluster, flux, suspend));
  return true;
}

/** What an operator types to resume, under the same field manager. */
export function resumeCommand(cluster: Pick<ClusterDefinition, 'name'>, kustomization: string): string {
  return `kubectl --context ${cluster.name} -n flux-system patch kustomization ${kustomization} --type merge -p '{"spec":{"suspend":false}}' --field-manager=${FAILOVER_FIELD_MANAGER}`;
}
