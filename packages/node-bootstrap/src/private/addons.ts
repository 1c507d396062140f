import { firstBootAddOns } from '@platform/core-addons';
import type { ClusterDefinition, ClusterNames, PlatformSettings } from '@platform/platform-config';
import { yamlText } from './yaml-text';

/**
 * Files under /etc/node-bootstrap/addons that install-addons.sh hands to Helm and kubectl:
 * core-addons' first-boot objects, serialized unchanged (the same ones Flux applies from Git).
 */
export function addonFiles(cluster: ClusterDefinition, settings: PlatformSettings, names: ClusterNames): Record<string, string> {
  const addOns = firstBootAddOns(cluster, settings, names);
  return {
    'cilium-values.yaml': yamlText(addOns.cilium.values),
    'ccm-values.yaml': yamlText(addOns.cloudController.values),
    'flux-operator-values.yaml': yamlText(addOns.fluxOperator.values),
    'flux-instance.yaml': yamlText(addOns.fluxInstance),
  };
}
