import { cloudControllerValues } from '@platform/platform-config';
import type { AddOnContext } from '../addon';
import { AWS_CLOUD_CONTROLLER_RELEASE } from '../releases';
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
    // The values node-bootstrap installed it with: adopting the release changes nothing.
    return cloudControllerValues(ctx.cluster);
  }

}
