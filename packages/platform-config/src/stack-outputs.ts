/**
 * Terraform output names that more than one package reads: aws-cluster writes them
 * (`TerraformOutput` ids), the pipeline reads them with `terraform output -json`. An output
 * id is API between the two, so it is spelled once, here.
 */

/** Outputs of every `<cluster>-cluster` stack that another package reads. */
export const CLUSTER_STACK_OUTPUTS = {
  /** Kubernetes API endpoint (host name, port 6443). */
  apiEndpoint: 'api_endpoint',
  availabilityZones: 'availability_zones',
  /** AZ -> id of the FIS AZ-failure template that takes that AZ away (one per AZ). */
  fisTemplateIdsByAz: 'fis_experiment_template_ids',
  /** The cluster's own public ingress NLB. */
  ingressDnsName: 'ingress_load_balancer_dns_name',
  /** The node-termination queue's URL (what the termination handler reads). */
  nodeTerminationQueueUrl: 'node_termination_queue_url',
  /** Worker ASGs, one per pool and AZ. */
  workerAsgNames: 'worker_asg_names',
} as const;

/** Outputs of the account stack (ci-identity): the roles the workflows assume. */
export const CI_IDENTITY_STACK_OUTPUTS = {
  planRoleArn: 'plan_role_arn',
  applyRoleArn: 'apply_role_arn',
  driftRoleArn: 'drift_role_arn',
  fenceRoleArn: 'fence_role_arn',
  failoverRoleArn: 'failover_role_arn',
  releaseRoleArn: 'release_role_arn',
} as const;

export type ClusterStackOutput = (typeof CLUSTER_STACK_OUTPUTS)[keyof typeof CLUSTER_STACK_OUTPUTS];
export type CiIdentityStackOutput = (typeof CI_IDENTITY_STACK_OUTPUTS)[keyof typeof CI_IDENTITY_STACK_OUTPUTS];
