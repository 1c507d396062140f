import type { ClusterDefinition, ClusterNames, PlatformSettings, WorkerPool } from '@platform/platform-config';

/** What infrastructure hands the bootstrap renderer for one launch template. */
export interface UserDataInput {
  readonly role: 'control-plane' | 'worker';
  readonly cluster: ClusterDefinition;
  readonly settings: PlatformSettings;
  readonly names: ClusterNames;
  /**
   * DNS name of the API load balancer. May be a Terraform token (`${aws_lb.api.dns_name}`):
   * the renderer only embeds it as text, never parses it.
   */
  readonly apiEndpoint: string;
  /** The worker pool (role `worker` only). */
  readonly pool?: WorkerPool;
}
