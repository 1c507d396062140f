import { CILIUM_RELEASE } from '../releases';
import { CoreAddOn } from './core-addon';

/**
 * The CNI: Cilium in VXLAN tunnel mode with cluster-pool IPAM over the cluster's pod CIDR,
 * alongside kubeadm's kube-proxy. node-bootstrap installs the same release at first boot;
 * this HelmRelease takes it over with core-addons' `ciliumValues`.
 */
export class Cilium extends CoreAddOn {
  readonly id = 'cilium';
  readonly layer = 'infra-controllers' as const;
  readonly release = CILIUM_RELEASE;
  protected readonly part = 'cilium' as const;
}
