import type { Chart } from 'cdk8s';
import type { AddOnContext, FluxLayer } from '../addon';
import { Kustomization, KustomizationSpecSourceRefKind } from '../imports/kustomize.toolkit.fluxcd.io';
import { FLUX_INSTANCE, FLUX_NAMESPACE } from '../releases';

/** Folder of each layer under clusters/<cluster>/. */
export const LAYER_FOLDERS: Readonly<Record<FluxLayer, string>> = {
  'flux-system': 'flux-system',
  'infra-controllers': 'infrastructure/controllers',
  'infra-configs': 'infrastructure/configs',
  apps: 'apps',
};

/** How long each layer may take to become healthy before Flux reports it failed. */
const LAYER_TIMEOUTS: Readonly<Record<FluxLayer, string>> = {
  'flux-system': '10m',
  'infra-controllers': '20m',
  'infra-configs': '5m',
  apps: '10m',
};

/**
 * One Flux Kustomization per layer, each depending on the previous one, pruning what was
 * removed from Git and waiting for every object it applies to be healthy (HelmReleases
 * Ready, Deployments rolled out) before the next layer starts.
 */
export function fluxLayerKustomizations(chart: Chart, ctx: AddOnContext, layers: readonly FluxLayer[]): Kustomization[] {
  const interval = `${ctx.cluster.gitops.intervalMinutes}m`;
  return layers.map(
    (layer, i) =>
      new Kustomization(chart, layer, {
        metadata: { name: layer, namespace: FLUX_NAMESPACE },
        spec: {
          interval,
          retryInterval: '1m',
          timeout: LAYER_TIMEOUTS[layer],
          path: `./${ctx.names.gitopsPath}/${LAYER_FOLDERS[layer]}`,
          prune: true,
          wait: true,
          sourceRef: { kind: KustomizationSpecSourceRefKind.GIT_REPOSITORY, name: FLUX_INSTANCE.syncName, namespace: FLUX_NAMESPACE },
          dependsOn: i > 0 ? [{ name: layers[i - 1]!, namespace: FLUX_NAMESPACE }] : undefined,
        },
      }),
  );
}
