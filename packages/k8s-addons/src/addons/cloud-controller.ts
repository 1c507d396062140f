import type { AddOnContext } from '../addon';
import { imagesFor } from '../private/images';
import { AWS_CLOUD_CONTROLLER_RELEASE } from '../releases';
import { CONTROL_PLANE_NODE_SELECTOR, CONTROL_PLANE_TOLERATIONS, UNINITIALIZED_TOLERATION } from '../scheduling';
import { Cilium } from './cilium';
import { HelmAddOn, type HelmAddOnProps } from './helm-addon';

export type CloudControllerProps = HelmAddOnProps;

/**
 * The AWS cloud controller manager: initialises nodes and sets the zone labels every spread
 * rule relies on. A DaemonSet on the control-plane nodes (leader-elected), host network so
 * it reaches IMDS and uses the control-plane instance role.
 */
export class AwsCloudControllerManager extends HelmAddOn<CloudControllerProps> {
  readonly id = 'aws-cloud-controller-manager';
  readonly layer = 'infra-controllers' as const;
  readonly release = AWS_CLOUD_CONTROLLER_RELEASE;
  override readonly dependencies = [Cilium];

  protected defaults(): CloudControllerProps {
    return { values: {} };
  }

  protected chartValues(_props: CloudControllerProps, ctx: AddOnContext): Record<string, unknown> {
    return {
      image: { repository: 'registry.k8s.io/provider-aws/cloud-controller-manager', tag: imagesFor(ctx.cluster).cloudController },
      args: ['--v=2', '--cloud-provider=aws', `--cluster-name=${ctx.cluster.name}`, '--configure-cloud-routes=false', '--leader-elect=true'],
      hostNetworking: true,
      nodeSelector: { ...CONTROL_PLANE_NODE_SELECTOR },
      tolerations: [UNINITIALIZED_TOLERATION, ...CONTROL_PLANE_TOLERATIONS],
    };
  }
}
