import { AWS_CLOUD_CONTROLLER_RELEASE } from '../releases';
import { Cilium } from './cilium';
import { CoreAddOn } from './core-addon';

/**
 * The AWS cloud controller manager: initialises nodes and sets the zone labels every spread
 * rule relies on. A DaemonSet on the control-plane nodes (leader-elected), host network so
 * it reaches IMDS and uses the control-plane instance role; core-addons' `cloudControllerValues`.
 */
export class AwsCloudControllerManager extends CoreAddOn {
  readonly id = 'aws-cloud-controller-manager';
  readonly layer = 'infra-controllers' as const;
  readonly release = AWS_CLOUD_CONTROLLER_RELEASE;
  override readonly dependencies = [Cilium];
  protected readonly part = 'cloudController' as const;
}
