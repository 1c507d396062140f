import type { ClusterDefinition, ClusterNames, PlatformSettings, WorkerPool } from '@platform/platform-config';

/** What infrastructure hands the bootstrap renderer for one launch template. */
export interface UserDataInput {
  readonly role: 'control-plane' | 'worker';
  readonly cluster: ClusterDefinition;
  readonly settings: PlatformSettings;
  readonly names: ClusterNames;
  /**
   * DNS name clients and kubeadm use for the API (controlPlaneEndpoint): the API load
   * balancer's, or its Route 53 alias record. May be a Terraform token (`${aws_lb.api.dns_name}`):
   * the renderer only embeds it as text, never parses it.
   */
  readonly apiEndpoint: string;
  /**
   * Other names clients reach the API by, added to the API server certificate besides
   * `apiEndpoint` (the load balancer's own DNS name when `apiEndpoint` is a Route 53 alias
   * record). Tokens are fine, as for `apiEndpoint`. @default []
   */
  readonly apiAlternateNames?: readonly string[];
  /** The worker pool (role `worker` only). */
  readonly pool?: WorkerPool;
}
