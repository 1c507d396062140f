import { CORE_ADDONS, CNI, type ClusterDefinition, type ClusterNames, type PlatformSettings } from '@platform/platform-config';
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
  // Until workers join, the control-plane nodes are the only place Flux can start.
  const fluxOperator = { tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }] };
  const fluxInstance = {
    apiVersion: 'fluxcd.controlplane.io/v1',
    kind: 'FluxInstance',
    metadata: { name: 'flux', namespace: CORE_ADDONS.fluxOperator.namespace },
    spec: {
      distribution: { version: CORE_ADDONS.fluxDistribution.version, registry: CORE_ADDONS.fluxDistribution.registry },
      components: ['source-controller', 'kustomize-controller', 'helm-controller', 'notification-controller'],
      cluster: { type: 'kubernetes', networkPolicy: true, domain: 'cluster.local' },
      sync: {
        kind: 'GitRepository',
        url: gitUrl(settings),
        ref: `refs/heads/${cluster.gitops.branch}`,
        path: names.gitopsPath,
        interval: `${cluster.gitops.intervalMinutes}m`,
        pullSecret: 'flux-system',
      },
    },
  };
  return {
    'cilium-values.yaml': yamlText(cilium),
    'ccm-values.yaml': yamlText(ccm),
    'flux-operator-values.yaml': yamlText(fluxOperator),
    'flux-instance.yaml': yamlText(fluxInstance),
  };
}

export function gitUrl(settings: PlatformSettings): string {
  return `https://github.com/${settings.github.owner}/${settings.github.repository}.git`;
}
