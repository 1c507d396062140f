import { ciliumValues, cloudControllerValues, CORE_ADDONS, FLUX_COMPONENTS, FLUX_INSTANCE_NAMES, FLUX_OPERATOR_VALUES, fluxGitSync, type ClusterDefinition, type ClusterNames, type PlatformSettings } from '@platform/platform-config';
import { yamlText } from './yaml-text';

/** Files under /etc/node-bootstrap/addons that install-addons.sh hands to Helm and kubectl. */
export function addonFiles(cluster: ClusterDefinition, settings: PlatformSettings, names: ClusterNames): Record<string, string> {
  // The same values and FluxInstance Flux applies from Git (k8s-addons) after taking over.
  const fluxInstance = {
    apiVersion: 'fluxcd.controlplane.io/v1',
    kind: 'FluxInstance',
    metadata: { name: FLUX_INSTANCE_NAMES.name, namespace: FLUX_INSTANCE_NAMES.namespace },
    spec: {
      distribution: { version: CORE_ADDONS.fluxDistribution.version, registry: CORE_ADDONS.fluxDistribution.registry },
      components: FLUX_COMPONENTS,
      cluster: { type: 'kubernetes', networkPolicy: true, domain: 'cluster.local' },
      sync: fluxGitSync(cluster, settings, names),
    },
  };
  return {
    'cilium-values.yaml': yamlText(ciliumValues(cluster)),
    'ccm-values.yaml': yamlText(cloudControllerValues(cluster)),
    'flux-operator-values.yaml': yamlText(FLUX_OPERATOR_VALUES),
    'flux-instance.yaml': yamlText(fluxInstance),
  };
}
