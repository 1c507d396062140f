/**
 * Every finding ha-check can raise: its severity rule, its one-line fix and where the docs explain
 * it. `Findings.add` only takes ids of this table (the type says so), and docs/ha-check.md's
 * catalogue is checked against it by test/docs.test.ts.
 *
 * Severity rules: `az` is an error when the cluster declares `tolerateAzLoss`, else a warning;
 * `region` an error when it declares `tolerateRegionLoss`, a warning when it only belongs to a
 * failover pair (and not raised otherwise); `backups` an error when backups must be
 * cross-region. A fix may name `{placeholders}` the caller fills (`vars`).
 */
export type SeverityRule = 'error' | 'warning' | 'info' | 'az' | 'region' | 'backups';

export interface CatalogueEntry {
  readonly severity: SeverityRule;
  /** When it is raised, one line (the docs' "raised when" column). */
  readonly when: string;
  readonly fix: string;
  /** Section of docs/ha-check.md that explains the model behind it. */
  readonly doc: string;
}

const CATALOGUE = '#finding-catalogue';
const RTO = '#regional-rto-model';
const RPO = '#regional-rpo-model';
const HELM = '#helmrelease-add-ons';
const FLOWS = '#network-flows';
const COLD_START = '#cold-start';
const CI = '#ci-identities';
const PLACEMENT = '#node-placement';
const TERMINATION = '#node-termination';
const ELASTICITY = '#elasticity';
const IDENTITY = '#workload-identities';

export const FINDING_CATALOGUE = {
  'control-plane.missing': { severity: 'az', when: 'no ASG named `*control-plane*`', fix: 'Synthesize the control-plane ASGs (one per AZ) before running ha-check.', doc: CATALOGUE },
  'control-plane.az-spread': { severity: 'az', when: 'losing some AZ loses etcd quorum (e.g. 3 nodes in 2 AZs)', fix: 'Run 3 (or 5) control-plane nodes, one ASG per AZ, across at least 3 AZs.', doc: CATALOGUE },
  'control-plane.even-members': { severity: 'warning', when: 'an even number of etcd members', fix: 'Use an odd number of control-plane nodes (3 or 5).', doc: CATALOGUE },
  'api.no-load-balancer': { severity: 'az', when: 'no NLB listening on 6443', fix: 'Front the API servers with an NLB across every AZ (TCP 6443).', doc: CATALOGUE },
  'api.unreachable': { severity: 'az', when: 'quorum kept but no NLB subnet / API server reachable', fix: 'Spread the NLB subnets and the API servers over every AZ (cross-zone on).', doc: CATALOGUE },
  'api.rto-exceeded': { severity: 'error', when: 'interval × unhealthy threshold > `apiRtoSeconds`', fix: 'Use a 10 s health-check interval and an unhealthy threshold of 2 on the API target group.', doc: CATALOGUE },
  'nlb.single-az': { severity: 'az', when: 'an NLB with one subnet (a warning for one that is neither the API nor the app ingress)', fix: 'Attach one subnet per AZ to the load balancer (subnets / subnet_mapping).', doc: CATALOGUE },
  'nlb.missing-azs': { severity: 'warning', when: 'NLB not in every AZ', fix: 'Attach a subnet in every AZ the cluster uses.', doc: CATALOGUE },
  'nlb.cross-zone-off': { severity: 'warning', when: 'API or ingress NLB without cross-zone load balancing', fix: 'Set enable_cross_zone_load_balancing = true.', doc: CATALOGUE },
  'nat.cross-az': { severity: 'az', when: 'a NAT gateway serves private subnets of other AZs (single NAT)', fix: "Use a NAT gateway per AZ and route each private subnet to its own AZ's NAT (nat: per-az).", doc: CATALOGUE },
  'egress.no-default-route': { severity: 'warning', when: 'a private subnet with no default route', fix: 'Route 0.0.0.0/0 to the NAT gateway in the same AZ.', doc: CATALOGUE },
  'workers.single-az': { severity: 'az', when: 'workers only in one AZ', fix: 'Create one worker ASG per pool and AZ.', doc: CATALOGUE },
  'capacity.insufficient': { severity: 'az', when: 'pods do not fit the surviving ASGs even at their maximum', fix: "Raise maxPerAz of the worker pools or lower the pods' requests.", doc: CATALOGUE },
  'capacity.headroom': { severity: 'error', when: 'pods wait for new nodes and the app RTO is exceeded', fix: "Keep enough spare capacity per AZ (minPerAz) to absorb one AZ's pods.", doc: CATALOGUE },
  'capacity.baseline-short': { severity: 'warning', when: 'pods do not fit before any failure', fix: 'Raise minPerAz or lower requests.', doc: CATALOGUE },
  'terraform.plan-preferred': { severity: 'info', when: "a `--terraform` folder held a stack's `cdk.tf.json` and a plan JSON beside it: the plan was loaded, the cdk.tf.json not", fix: 'Nothing to fix; pass the cdk.tf.json file itself to judge the synthesized stack instead.', doc: CATALOGUE },
  'addon.chart-not-analysed': { severity: 'info', when: 'a HelmRelease of a chart with no extractor in `CHART_WORKLOADS`: presence only', fix: 'Add an extractor for the chart to CHART_WORKLOADS (packages/ha-check/src/private/chart-workloads.ts).', doc: HELM },
  'workload.unschedulable': { severity: 'az', when: 'no node group matches its selector/tolerations', fix: "Match the pod nodeSelector and tolerations to a worker pool's labels and taints.", doc: CATALOGUE },
  'workload.single-replica': { severity: 'az', when: 'one replica', fix: 'Set replicas (or the HPA minimum) to ≥ the number of AZs ({azs}) with zone topology spread.', doc: CATALOGUE },
  'workload.stranded-volume': { severity: 'az', when: 'one replica on a zonal (EBS) volume', fix: 'Run ≥ 2 replicas in different AZs with application-level replication (e.g. PostgreSQL streaming replicas), backed up to S3.', doc: CATALOGUE },
  'workload.zonal-volumes': { severity: 'info', when: 'replicas on EBS volumes: the app must fail over', fix: 'Make sure the application fails over between replicas (leader election / promotion).', doc: CATALOGUE },
  'workload.anti-affinity-caps-replicas': { severity: 'az', when: 'required zone anti-affinity and HPA max (or replicas) above the zone count', fix: 'Replace the required zone anti-affinity with a topologySpreadConstraint on topology.kubernetes.io/zone (maxSkew 1).', doc: CATALOGUE },
  'workload.no-zone-spread': { severity: 'warning', when: '≥ 2 replicas without a hard zone spread, or with one whose maxSkew ≥ replicas (it constrains nothing)', fix: 'Add a topologySpreadConstraint on topology.kubernetes.io/zone with whenUnsatisfiable: DoNotSchedule.', doc: CATALOGUE },
  'workload.spread-blocks-reschedule': { severity: 'warning', when: '`DoNotSchedule` spread without `nodeTaintsPolicy: Honor` keeps lost pods Pending', fix: 'Set nodeTaintsPolicy: Honor on the zone topologySpreadConstraint.', doc: CATALOGUE },
  'workload.default-tolerations': { severity: 'warning', when: 'default 300 s not-ready/unreachable tolerations (error above `appRtoSeconds`)', fix: 'Add NoExecute tolerations for node.kubernetes.io/not-ready and node.kubernetes.io/unreachable with tolerationSeconds ≤ 30.', doc: CATALOGUE },
  'workload.pod-rto-exceeded': { severity: 'error', when: 'explicit tolerations still exceed `appRtoSeconds`', fix: 'Lower the unreachable tolerationSeconds to ≤ {seconds}.', doc: CATALOGUE },
  'workload.never-evicted': { severity: 'az', when: 'tolerates `unreachable` forever', fix: 'Set tolerationSeconds (e.g. 30) on the unreachable / not-ready tolerations.', doc: CATALOGUE },
  'workload.no-pdb': { severity: 'info', when: '≥ 2 replicas and no PDB', fix: 'Add a PodDisruptionBudget with maxUnavailable: 1.', doc: CATALOGUE },
  'pdb.blocks-eviction': { severity: 'warning', when: '`maxUnavailable: 0` or `minAvailable` ≥ replicas: drains, scale-down and rebalancing stall (an AZ loss is no eviction: it does not stop the failover)', fix: 'Use maxUnavailable: 1 (or minAvailable below the replica count).', doc: CATALOGUE },
  'pdb.overlapping': { severity: 'warning', when: 'several PDBs on one workload', fix: 'Keep exactly one PDB per workload.', doc: CATALOGUE },
  'pdb.selects-nothing': { severity: 'info', when: 'a PDB matching nothing', fix: 'Fix its selector or remove it.', doc: CATALOGUE },
  'addon.cloud-controller-missing': { severity: 'error', when: 'no AWS cloud controller manager: no zone labels', fix: 'Deploy the AWS cloud controller manager (HelmRelease aws-cloud-controller-manager) on the control plane.', doc: CATALOGUE },
  'addon.cluster-autoscaler-missing': { severity: 'warning', when: 'cluster-autoscaler not in the manifests', fix: 'Deploy cluster-autoscaler with --balance-similar-node-groups and ASG auto-discovery.', doc: CATALOGUE },
  'addon.coredns-unmanaged': { severity: 'warning', when: 'CoreDNS not in the manifests', fix: 'Manage CoreDNS from Git with zone topology spread and a PodDisruptionBudget.', doc: CATALOGUE },
  'addon.metrics-server-missing': { severity: 'az', when: 'HPAs without metrics-server', fix: 'Deploy metrics-server (2 replicas, zone spread).', doc: CATALOGUE },
  'addon.ebs-csi-missing': { severity: 'az', when: 'EBS claims without the CSI driver', fix: 'Deploy the AWS EBS CSI driver.', doc: CATALOGUE },
  'backup.not-replicated': { severity: 'backups', when: 'no enabled S3 replication to another region', fix: 'Set backups.replicaRegion so the backup bucket replicates (aws_s3_bucket_replication_configuration) to the DR region.', doc: RPO },
  'backup.replica-region-mismatch': { severity: 'warning', when: 'replica region ≠ declared', fix: 'Replicate to the declared backups.replicaRegion.', doc: RPO },
  'backup.snapshot-interval-unknown': { severity: 'warning', when: 'no snapshot schedule found', fix: 'Declare backups.etcdSnapshotIntervalMinutes (platform-config) or pass --objectives.', doc: RPO },
  'backup.replication-lag-unbounded': { severity: 'warning', when: 'paired or region-tolerant cluster whose backup replication has no S3 Replication Time Control: the lag counted in the RPO (15 min) is typical, not bounded', fix: 'Enable S3 Replication Time Control (destination replication_time and metrics, {minutes} min) on the backup replication rules.', doc: RPO },
  'backup.rpo-exceeded': { severity: 'error', when: 'snapshot interval > `rpoMinutes`', fix: 'Snapshot at least every {minutes} min.', doc: RPO },
  'backup.database-not-replicated': { severity: 'warning', when: 'a CNPG WAL archive bucket with no cross-region replication (paired clusters or required backups)', fix: 'Replicate the app backup bucket to the standby region (aws_s3_bucket_replication_configuration).', doc: RPO },
  'backup.database-rpo-exceeded': { severity: 'error', when: '`archive_timeout` > `rpoMinutes`', fix: "Set archive_timeout to at most {minutes}min in the Cluster's postgresql.parameters.", doc: RPO },
  'region.standby-capacity-short': { severity: 'region', when: "a standby worker ASG's `max_size` is below the size the promotion sets it to (the primary's same-pool minimum)", fix: "Raise maxPerAz of the standby's pool to at least {target}.", doc: RTO },
  'region.standby-standing-capacity': { severity: 'warning', when: "the primary's workloads do not all fit on the standby's standing workers (pilot-light desired counts): the promotion must wait for the scale-up", fix: "Raise the standby pool's minPerAz (or lower the pods' requests) until the primary's footprint fits, taking the scale-up off the regional RTO's critical path.", doc: RTO },
  'region.no-standby': { severity: 'error', when: '`tolerateRegionLoss` and no standby', fix: 'Set failover.standbyCluster to a cluster in another region.', doc: RTO },
  'region.standby-same-region': { severity: 'region', when: 'standby in the same region', fix: 'Put the standby cluster in another region.', doc: RTO },
  'region.no-dns-failover': { severity: 'region', when: 'no Route 53 record with `failover_routing_policy` for the app', fix: 'Create an aws_route53_record alias to the ingress NLB with failover_routing_policy PRIMARY (SECONDARY on the standby), set_identifier and health_check_id.', doc: RTO },
  'region.no-health-check': { severity: 'region', when: 'the failover record has no `health_check_id` (never fails over)', fix: 'Attach an aws_route53_health_check (HTTP on the ingress NLB, request_interval 10, failure_threshold 3) through health_check_id.', doc: RTO },
  'region.dns-failover-role': { severity: 'region', when: "PRIMARY on a standby, SECONDARY on a primary (or the standby's record is not SECONDARY)", fix: 'Set failover_routing_policy.type = {role}.', doc: RTO },
  'region.no-secondary-record': { severity: 'region', when: '`--standby-terraform` given and the standby has no failover record', fix: "Create the SECONDARY aws_route53_record (alias to the standby's ingress NLB, its own health check) in the standby stack.", doc: RTO },
  'region.no-promotion-path': { severity: 'region', when: 'a failover pair without a scripted promotion (workflow + `npm run failover`) or declared `promotion`', fix: 'Add the promotion workflow (.github/workflows/region-failover.yml calling npm run failover) or declare objectives.promotion.', doc: RTO },
  'region.rto-exceeded': { severity: 'region', when: 'detection + promotion + TTL > `regionRtoSeconds`', fix: 'Shorten the promotion (keep more standby capacity warm, a standby database replica instead of a restore) or the health check (request_interval 10).', doc: RTO },
  'region.rto-undeclared': { severity: 'info', when: '`tolerateRegionLoss` with an estimate but no `regionRtoSeconds`', fix: 'Declare the regional RTO (objectives.regionRtoSeconds) so ha-check can hold the estimate to it.', doc: RTO },
  'region.dns-ttl-high': { severity: 'warning', when: 'failover record TTL > 60 s', fix: 'Use an alias record to the NLB (fixed 60 s TTL) or ttl ≤ {ttl}.', doc: RTO },
  'ingress.unreachable': { severity: 'az', when: 'losing an AZ leaves no reachable ingress target (NLB subnets, cross-zone, worker ASGs)', fix: 'Give the ingress NLB a subnet in every AZ, cross-zone on, and register the worker ASGs of every AZ with its target groups.', doc: CATALOGUE },
  'flow.blocked': { severity: 'az', when: 'a flow the cluster needs (node → API, operator → API, etcd peers, kubelet, CNI, ingress → NodePorts, health checker → ingress, pod with a web identity → STS) is dropped: error in the normal state, AZ rule when only an AZ loss drops it, warning for a flow it can do without (ICMP)', fix: '{fix}', doc: FLOWS },
  'flow.endpoint-unknown': { severity: 'warning', when: "no API endpoint in any launch template's user data (node-bootstrap's /etc/node-bootstrap/env): node → API is not decided", fix: 'Render the node bootstrap (packages/node-bootstrap) into the launch templates so ha-check can read API_ENDPOINT.', doc: FLOWS },
  'cold-start.blocked': { severity: 'error', when: 'day 0 reaches a fixed point with the first control-plane node (or the joining nodes, or a new worker) not Ready or not initialized: the add-ons that lift the taints cannot schedule', fix: '{fix}', doc: COLD_START },
  'cold-start.pending': { severity: 'warning', when: 'a workload stays Pending once every node is up (its tolerations, selectors, spread or ports fit no node)', fix: 'Match its tolerations, node selector, spread and host ports to the nodes the cluster has.', doc: COLD_START },
  'ci.pr-can-read-secret': { severity: 'error', when: 'a role a pull request (or any branch, or another repository) can assume may read or decrypt cluster secrets (join material, snapshots, state) or write anything', fix: "Trust only main / protected-environment subjects for that role, or take the sensitive permissions out of it (no kms:Decrypt via SSM on the join material, no state or snapshot reads).", doc: CI },
  'ci.wildcard-subject': { severity: 'warning', when: 'a role trusts a `sub` pattern that admits both pull requests and main (or no `sub` condition at all)', fix: 'Trust exact subjects (repo:<owner>/<repo>:pull_request, :ref:refs/heads/main, :environment:<name>).', doc: CI },
  'region.rpo-exceeded': { severity: 'error', when: 'the regional RPO (replicated archive timeout, and the etcd snapshot interval when no standby takes over, + the lag of the replications carrying them) > `regionRpoSeconds`, else `rpoMinutes` (a paired cluster or one with `tolerateRegionLoss`): an error whenever the objective applies', fix: 'Archive WAL (and snapshot etcd) more often or bound the replication (S3 RTC) so interval + lag ≤ {minutes} min, or declare the regional RPO the design gives (objectives.regionRpoSeconds).', doc: RPO },
  'termination.not-handled': { severity: 'warning', when: 'a node AWS takes away (scale-in, refresh, spot, rebalance, scheduled retirement) leaves without a drain: a node ASG without a terminating hook, no queue for the termination events or one EventBridge cannot deliver to, or no Node Termination Handler in queue mode', fix: 'Add terminating lifecycle hooks, EventBridge rules into an SQS queue whose (KMS key) policy admits events.amazonaws.com, and the Node Termination Handler in queue mode (aws-cluster TerminationHandling, k8s-addons NodeTerminationHandler).', doc: TERMINATION },
  'scenario.not-survived': { severity: 'error', when: 'a scenario the objectives require (an AZ loss with `tolerateAzLoss`, the region with `tolerateRegionLoss`) does not survive while no error names why: the exit status follows the scenarios', fix: 'Fix the problems the scenario lists (the warnings behind them are the causes).', doc: CATALOGUE },
  'autoscaler.discovery-mismatch': { severity: 'az', when: "a worker ASG the cluster-autoscaler is meant to grow lacks one of the tags its `autoDiscovery` looks for (or auto-discovery is not configured): it never scales out", fix: 'Tag the worker ASGs with every autoDiscovery tag ({tags}) or make the autoscaler values name the tags the ASGs carry.', doc: PLACEMENT },
  'workload.preempted': { severity: 'az', when: 'after an AZ loss, higher-priority pods preempt its pods and they stay Pending (capacity short even at the discovered ASGs\' maximum)', fix: 'Raise maxPerAz of the pool (or keep spare nodes) so the preempted pods fit too, or lower their requests.', doc: PLACEMENT },
  'workload.spread-waits-node-deletion': { severity: 'warning', when: 'a `DoNotSchedule` zone spread with `nodeTaintsPolicy: Ignore` keeps lost pods Pending until the lost AZ\'s Node objects are deleted (error above `appRtoSeconds`)', fix: 'Set nodeTaintsPolicy: Honor on the zone topologySpreadConstraint (unreachable Nodes then stop counting as a domain).', doc: PLACEMENT },
  'ingress.detection-exceeds-rto': { severity: 'error', when: "the ingress load balancer's target health check (interval × unhealthy threshold) alone takes longer than `appRtoSeconds` to drop a dead AZ's targets", fix: 'Use a 10 s health-check interval and an unhealthy threshold of 2 on the ingress target groups.', doc: CATALOGUE },
  'elasticity.peak-does-not-fit': { severity: 'az', when: 'every HPA at its `maxReplicas` at once leaves pods Pending with every discovered worker ASG at `max_size`: an error with every AZ up, the AZ rule after losing one', fix: "Raise the worker pools' maxPerAz, or lower the HPAs' maxReplicas or the pods' requests.", doc: ELASTICITY },
  'elasticity.scale-out-slow': { severity: 'error', when: 'metrics resolution + HPA sync + stabilization + the scale-up steps + node provisioning + pod start > `scaleOutSeconds` (or the HPA never scales up)', fix: 'Widen the HPA scale-up policies (fewer steps), keep spare nodes per AZ (minPerAz) so no new node is needed, or shorten the scan interval.', doc: ELASTICITY },
  'elasticity.objective-undeclared': { severity: 'info', when: 'HPAs and no `scaleOutSeconds` objective: the time to scale out is estimated but held to no number', fix: 'Declare objectives.scaleOutSeconds for the cluster in platform-config.', doc: ELASTICITY },
  'identity.static-keys': { severity: 'error', when: 'an `aws_iam_user` or `aws_iam_access_key` in the cluster stack (static keys)', fix: "Give the workload a role through its service account's web identity (IRSA) and remove the IAM user and its keys.", doc: IDENTITY },
  'identity.static-keys-migrating': { severity: 'warning', when: "the `aws_iam_user` the cluster's platform-config `serviceAccountIdentity` keeps until `complete` (an IRSA migration in progress; its access key is outside Terraform)", fix: 'Finish the migration stage by stage (docs/runbooks/service-account-issuer.md); the stage complete removes the user.', doc: IDENTITY },
  'identity.trust-mismatch': { severity: 'error', when: "a pod wires a role ARN (env or service-account annotation) whose trust does not admit its own service account, or a role the Terraform does not define", fix: "Trust exactly system:serviceaccount:<namespace>:<name> of the pod's service account (StringEquals on <issuer>:sub).", doc: IDENTITY },
  'identity.trust-wildcard': { severity: 'error', when: 'a web-identity trust matches `sub` with StringLike wildcards (or has no `sub` condition)', fix: 'Use StringEquals on <issuer>:sub with the one service account the role is for.', doc: IDENTITY },
  'identity.trust-no-audience': { severity: 'error', when: 'a web-identity trust without StringEquals `<issuer>:aud` = sts.amazonaws.com', fix: 'Add StringEquals <issuer>:aud = sts.amazonaws.com to the trust condition.', doc: IDENTITY },
  'identity.foreign-provider': { severity: 'error', when: "a web-identity trust whose Federated principal is not the cluster's own OIDC provider", fix: "Federate the trust to the cluster's own provider (names.serviceAccountIssuer.providerArn).", doc: IDENTITY },
  'identity.imds-inherits': { severity: 'warning', when: "a pod that reaches its node's IMDS (hostNetwork, or every pod with IMDSv1 / hop limit ≥ 2) on nodes whose role allows more than the bootstrap needs (and nothing that yields the signing key: that is `identity.imds-mints`)", fix: "Move the extra permissions from the node role to the workload's own role (web identity); keep IMDSv2 with hop limit 1.{snapshots}", doc: IDENTITY },
  'identity.imds-mints': { severity: 'error', when: "a pod that reaches its node's IMDS (no IMDS fence on the node, or a fence that exempts a uid, which any pod may claim) whose node role can read the etcd snapshots, write the issuer's JWKS or read kubeadm's certificate key: each yields (or replaces) the service-account signing key, so it can mint tokens for every workload role", fix: 'Fence IMDS off from every pod on the node (node-bootstrap node-prep.sh, the web-identity stage; no exempt uid: give the pod a workload identity instead); move the extra permissions from the node role to the workload\'s own role.{snapshots}', doc: IDENTITY },
  'identity.imds-unfenced': { severity: 'error', when: 'the cluster fences IMDS off every node (platform-config `imdsFenced`: pods use web identity) and a pod still reaches a node\'s IMDS (no fence in the launch template, the older uid-only form, an exempt uid, or a hop limit above 1): it acts as the node role, whose reads include the join material', fix: 'Render node-bootstrap\'s IMDS fence (IMDS_FENCE_CGROUP, no exempt uid) into every launch template and keep the IMDS hop limit at 1.', doc: IDENTITY },
  'identity.issuer-not-public': { severity: 'error', when: "the cluster's OIDC provider while its issuer bucket does not serve exactly `.well-known/openid-configuration` and `openid/v1/jwks` publicly", fix: 'Allow anonymous s3:GetObject on exactly the two discovery keys in the issuer bucket policy, with block_public_policy and restrict_public_buckets off for that bucket.', doc: IDENTITY },
  'identity.annotation-inert': { severity: 'error', when: 'a service account carries `eks.amazonaws.com/role-arn` but no pod identity webhook runs and the pod sets no AWS_ROLE_ARN itself', fix: 'Wire the pod itself (projected serviceAccountToken with audience sts.amazonaws.com, AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE) or deploy the pod identity webhook.', doc: IDENTITY },
  'identity.token-audience': { severity: 'error', when: 'AWS_WEB_IDENTITY_TOKEN_FILE points at no projected serviceAccountToken, or at one for another audience', fix: 'Mount a projected serviceAccountToken with audience sts.amazonaws.com at the path AWS_WEB_IDENTITY_TOKEN_FILE names.', doc: IDENTITY },
  'identity.subject-unknown': { severity: 'warning', when: "a HelmRelease wires a role through chart values that leave the service account's name to the chart's default", fix: "Name the service account in the values (serviceAccount.name) so the role's trust can be checked against it.", doc: IDENTITY },
} as const satisfies Record<string, CatalogueEntry>;

export type FindingId = keyof typeof FINDING_CATALOGUE;
