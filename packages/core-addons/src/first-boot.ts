import type { ClusterDefinition, ClusterNames, PlatformSettings } from '@platform/platform-config';
import { ciliumValues } from './cilium';
import { cloudControllerValues } from './cloud-controller';
import { FLUX_OPERATOR_VALUES, fluxInstance } from './flux';
import { CORE_ADDONS, type PinnedChart } from './pins';

/** One Helm release the first control-plane node installs, with the values Flux later applies. */
export interface FirstBootRelease {
  readonly pin: PinnedChart;
  readonly values: Record<string, unknown>;
}

/** Everything the first boot installs for a cluster: node-bootstrap serializes it, k8s-addons renders it. */
export interface FirstBootAddOns {
  readonly cilium: FirstBootRelease;
  readonly cloudController: FirstBootRelease;
  readonly fluxOperator: FirstBootRelease;
  readonly fluxInstance: ReturnType<typeof fluxInstance>;
}

export function firstBootAddOns(cluster: ClusterDefinition, settings: Pick<PlatformSettings, 'github' | 'accountId'>, names: Pick<ClusterNames, 'gitopsPath' | 'serviceAccountIssuer'>): FirstBootAddOns {
  return {
    cilium: { pin: CORE_ADDONS.cilium, values: ciliumValues(cluster) },
    cloudController: { pin: CORE_ADDONS.awsCloudController, values: cloudControllerValues(cluster, settings, names) },
    fluxOperator: { pin: CORE_ADDONS.fluxOperator, values: structuredClone(FLUX_OPERATOR_VALUES) },
    fluxInstance: fluxInstance(cluster, settings, names),
  };
}
