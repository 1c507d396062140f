import { AWS_CLOUD_CONTROLLER_RELEASE } from '../releases';
import { Cilium } from './cilium';
import { CoreAddOn } from './core-addon';

/**
 * The AWS cloud controller manager: initialises nodes and sets the zone labels every spread
 * rule relies on. A DaemonSet on the control-plane nodes (leader-elected), host network (it runs
 * before the CNI). Its AWS identity is its own role (`cloud-controller`) from the web-identity
 * stage on, the control-plane instance role before; core-addons' `cloudControllerValues` wires both.
 */
export class AwsCloudControllerManager extends CoreAddOn {
  readonly id = 'aws-cloud-controller-manager';
  override readonly awsIdentity = 'cloud-controller' as const;
  readonly layer = 'infra-controllers' as const;
  readonly release = AWS_CLOUD_CONTROLLER_RELEASE;
  override readonly dependencies = [Cilium];
  protected readonly part = 'cloudController' as const;
}
