import { CORE_ADDONS, CNI, FLUX_COMPONENTS, FLUX_INSTANCE_NAMES, FLUX_OPERATOR_VALUES, fluxGitSync, type ClusterDefinition, type ClusterNames, type PlatformSettings } from '@platform/platform-config';
import { toolVersions } from '../versions';
import { yamlText } from './yaml-text';

/** Files under /etc/node-bootstrap/addons that install-addons.sh hands to Helm and kubectl. */
export function addonFiles(cluster: ClusterDefinition, settings: PlatformSettings, names: ClusterNames): Record<string, string> {
  const cilium = {
    routingMode: 'tunnel',
    tunnelProtocol: CNI.tunnelProtocol,
    ipam: { mode: 'cluster-pool', operator: { clusterPoolIPv4PodCIDRList: [cluster.clusterNetwork.podCidr], clusterPoolIPv4MaskSize: 24 } },
    hubble: { enabled: true, relay: { enabled: false }, ui: { enabled: false } },
    operator: { replicas: 2 },
  };
  const ccm = {
    image: { tag: toolVersions(cluster.kubernetesVersion).cloudControllerImageTag },
    args: ['--v=2', '--cloud-provider=aws', '--configure-cloud-routes=false', `--cluster-name=${cluster.name}`],
    hostNetworking: true,
    nodeSelector: { 'node-role.kubernetes.io/control-plane': '' },
  };
  // The same values and FluxInstance Flux applies from Git (k8s-addons' Flux add-on) after taking over.
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
    'cilium-values.yaml': yamlText(cilium),
    'ccm-values.yaml': yamlText(ccm),
    'flux-operator-values.yaml': yamlText(FLUX_OPERATOR_VALUES),
    'flux-instance.yaml': yamlText(fluxInstance),
  };
}
