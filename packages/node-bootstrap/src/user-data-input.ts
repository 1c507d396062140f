import type { ClusterDefinition, ClusterNames, PlatformSettings, WorkerPool } from '@platform/platform-config';

/** What infrastructure hands the bootstrap renderer for one launch template. */
export interface UserDataInput {
  readonly role: 'control-plane' | 'worker';
  readonly cluster: ClusterDefinition;
  readonly settings: PlatformSettings;
  readonly names: ClusterNames;
  /**
   * DNS name the nodes use for the API (kubeadm controlPlaneEndpoint and join endpoint, so every
   * kubelet, kube-proxy and admin kubeconfig): the internal load balancer's private hosted zone
   * record, reachable without a NAT gateway. May be a Terraform token
   * (`${aws_route53_record.api.fqdn}`): the renderer only embeds it as text, never parses it.
   */
  readonly apiEndpoint: string;
  /**
   * DNS name clients outside the VPC use (the CI/failover kubeconfig published to SSM): the
   * public load balancer's record. Tokens are fine. @default apiEndpoint (an internal-only cluster)
   */
  readonly apiExternalEndpoint?: string;
  /**
   * Other names clients reach the API by, added to the API server certificate besides
   * `apiEndpoint` (the public name, the load balancers' own DNS names). Tokens are fine, as for
   * `apiEndpoint`. @default []
   */
  readonly apiAlternateNames?: readonly string[];
  /**
   * S3 version id of the role's bundle object (`names.bootstrapBucket`, `bootstrapNames().bundleKey(role)`,
   * content `bootstrapBundle(role)`): the node fetches exactly this version. Usually the token
   * `${aws_s3_object.<bundle>.version_id}`.
   */
  readonly bundleVersionId: string;
  /** The worker pool (role `worker` only). */
  readonly pool?: WorkerPool;
}
