/**
 * Everything the emulated run does not judge, in one place, each with its reason and evidence.
 * moto 5.2.6 (tools/e2e/requirements-aws.txt) with the AWS provider 5.100.0.
 */

/** A resource type moto cannot create or read back; removed from the e2e copy of every stack. */
export interface ExcludedResourceType {
  readonly type: string;
  readonly reason: string;
}

/**
 * Resource types excluded from apply. Removing one also removes every resource and output
 * that references it (counted as excluded, naming the type that pulled it out).
 * Only EC2 Image Builder: every other type the stacks use is created and read back by moto 5.2.6
 * (with MOTO_IAM_LOAD_MANAGED_POLICIES=true for the FIS role's and the image builder role's AWS
 * managed policy attachments). The node-image stack's VPC, key, key policy and builder role are
 * still applied; its pipelines are judged by the offline plan (apps/infra test/offline-plan.test.ts)
 * and packages/aws-cluster test/node-image-stack.test.ts.
 */
const NO_IMAGE_BUILDER =
  'moto 5.2.6 has no EC2 Image Builder backend (no "imagebuilder" entry in moto/backend_index.py; the service name appears only in its VPC endpoint service list), so the provider\'s Create*/Get* calls fail';
export const EXCLUDED_RESOURCE_TYPES: readonly ExcludedResourceType[] = [
  'aws_imagebuilder_component',
  'aws_imagebuilder_image_recipe',
  'aws_imagebuilder_infrastructure_configuration',
  'aws_imagebuilder_distribution_configuration',
  'aws_imagebuilder_image_pipeline',
].map((type) => ({ type, reason: NO_IMAGE_BUILDER }));

/**
 * Values of the committed stacks that name things outside them, which the e2e creates in moto
 * first and then rewrites in the copy (moto picks its own ids). The summary lists each.
 */
export interface Substitution {
  readonly what: string;
  readonly from: string;
  readonly to: string;
}

/** One attribute change of a resource in a plan. */
export interface AttributeChange {
  readonly type: string;
  readonly address: string;
  /** Dotted path, list indexes as `*`, e.g. `launch_template.*.version`. */
  readonly path: string;
  readonly before: unknown;
  /** `undefined` with `unknownAfter` when the value is known only after apply. */
  readonly after: unknown;
  readonly unknownAfter: boolean;
  /** The resource's whole prior state (for conditions on other attributes). */
  readonly priorState: Readonly<Record<string, unknown>>;
}

/** A perpetual diff that comes from the emulator, not from our constructs. */
export interface IdempotenceArtefact {
  readonly type: string;
  /** The attribute path it covers (exact, or a prefix ending in `.`). */
  readonly path: string;
  readonly reason: string;
  /** Only these changes are the artefact; anything else on the same path still counts. */
  readonly matches: (change: AttributeChange) => boolean;
  /** How the e2e override keeps it out of every plan (src/artefact-override.ts). */
  readonly silenced: ArtefactSilencing;
}

/**
 * `ignore`: the `lifecycle.ignore_changes` expressions for one resource's configuration (none when
 * that resource cannot show the artefact); `follows`: it is only the consequence of another
 * artefact on the same resource or the one it references, gone once that one is ignored;
 * `harness`: no ignore_changes can express it, so the harness's plan filter still judges it.
 */
export type ArtefactSilencing =
  | { readonly ignore: (config: Readonly<Record<string, unknown>>) => readonly string[] }
  | { readonly follows: string }
  | { readonly harness: string };

const always = (...paths: string[]) => ({ ignore: () => paths });
/** A rule's description is lost only when it references a security group. */
const ifGroupReferenced = { ignore: (config: Readonly<Record<string, unknown>>) => (config.referenced_security_group_id !== undefined ? ['description'] : []) };
/** One expression per replication rule: ignore_changes takes no splat, list elements by index. */
const perRule = (block: string) => ({ ignore: (config: Readonly<Record<string, unknown>>) => (Array.isArray(config.rule) ? config.rule.map((_, i) => `rule[${i}].${block}`) : []) });

const becomesUnknown = (change: AttributeChange): boolean => change.unknownAfter;

/**
 * Attribute changes ignored when judging idempotence (plan right after apply). Each names
 * the moto code that causes it; every other change fails the run.
 */
export const IDEMPOTENCE_ARTEFACTS: readonly IdempotenceArtefact[] = [
  ...(['notification_target_arn', 'role_arn'] as const).map(
    (path): IdempotenceArtefact => ({
      type: 'aws_autoscaling_lifecycle_hook',
      path,
      reason:
        'moto 5.2.6 LifecycleHook never stores NotificationTargetARN or RoleARN and answers every DescribeLifecycleHooks with hard-coded ones (arn:aws:sqs:us-east-1:123456789012:my-queue, arn:aws:iam::1234567890:role/my-auto-scaling-role; moto/autoscaling/models.py, "TODO ... hardcoded"); our hooks set neither (the ASG lifecycle events reach the queue through EventBridge)',
      matches: (c) => typeof c.before === 'string' && /:(my-queue|role\/my-auto-scaling-role)$/.test(c.before) && (c.after === null || c.after === undefined || c.after === '') && !c.unknownAfter,
      silenced: always(path),
    }),
  ),
  {
    type: 'aws_vpc_security_group_ingress_rule',
    path: 'description',
    reason:
      'moto 5.2.6 DescribeSecurityGroupRules returns Description only from the rule\'s CIDR range (SecurityGroupRule.description reads ip_range, moto/ec2/models/security_groups.py); a rule that references a security group keeps it in the group pair, so it reads back empty',
    matches: (c) => typeof c.priorState.referenced_security_group_id === 'string' && (c.before === null || c.before === '') && !c.unknownAfter,
    silenced: ifGroupReferenced,
  },
  {
    type: 'aws_vpc_security_group_egress_rule',
    path: 'description',
    reason: 'as for ingress rules: a group-referencing rule\'s description is not returned by moto\'s DescribeSecurityGroupRules',
    matches: (c) => typeof c.priorState.referenced_security_group_id === 'string' && (c.before === null || c.before === '') && !c.unknownAfter,
    silenced: ifGroupReferenced,
  },
  {
    type: 'aws_launch_template',
    path: 'tag_specifications',
    reason:
      'moto 5.2.6 CreateLaunchTemplate copies the request-level TagSpecifications (the template\'s own tags, resource type launch-template) into LaunchTemplateData.TagSpecifications (moto/ec2/responses/launch_templates.py); AWS keeps them on the template only, so the provider reads back an extra "launch-template" block',
    matches: (c) => {
      const extra = (value: unknown) => (Array.isArray(value) ? value : []).filter((s) => (s as { resource_type?: string }).resource_type === 'launch-template');
      const strip = (value: unknown) => JSON.stringify((Array.isArray(value) ? value : []).filter((s) => (s as { resource_type?: string }).resource_type !== 'launch-template'));
      return extra(c.before).length > 0 && extra(c.after).length === 0 && strip(c.before) === strip(c.after);
    },
    silenced: always('tag_specifications'),
  },
  {
    type: 'aws_launch_template',
    path: 'default_version',
    reason: 'follows from the tag_specifications artefact: the update it plans would write a new template version',
    matches: becomesUnknown,
    silenced: { follows: 'aws_launch_template tag_specifications (a computed attribute: ignore_changes cannot hold it)' },
  },
  {
    type: 'aws_launch_template',
    path: 'latest_version',
    reason: 'follows from the tag_specifications artefact: the update it plans would write a new template version',
    matches: becomesUnknown,
    silenced: { follows: 'aws_launch_template tag_specifications (a computed attribute: ignore_changes cannot hold it)' },
  },
  {
    type: 'aws_autoscaling_group',
    path: 'mixed_instances_policy.*.launch_template.*.launch_template_specification.*.version',
    reason: 'as launch_template.*.version, for the worker groups that launch through a mixed instances policy',
    matches: becomesUnknown,
    silenced: { follows: 'aws_launch_template tag_specifications (the version it references stays known)' },
  },
  {
    type: 'aws_autoscaling_group',
    path: 'capacity_reservation_specification.*.capacity_reservation_preference',
    reason:
      'moto 5.2.6 autoscaling has no CapacityReservationSpecification at all (nothing in moto/autoscaling), so the provider reads the block back without a preference and plans its empty default',
    matches: (c) => c.before === null && c.after === '',
    silenced: always('capacity_reservation_specification'),
  },
  {
    type: 'aws_s3_bucket_replication_configuration',
    path: 'rule.*.delete_marker_replication.*.status',
    reason:
      'moto 5.2.6 GetBucketReplication answers DeleteMarkerReplication Disabled for every rule whatever was put (a constant in moto/s3/responses.py get_bucket_replication)',
    matches: (c) => c.before === 'Disabled' && c.after === 'Enabled',
    silenced: perRule('delete_marker_replication'),
  },
  {
    type: 'aws_s3_bucket_replication_configuration',
    path: 'rule.*.filter.*.prefix',
    reason:
      'moto 5.2.6 GetBucketReplication answers Filter {Prefix: ""} for every rule whatever was put (a constant in moto/s3/responses.py get_bucket_replication), so a rule filtered by prefix (the archive home copy of postgres/) reads back unfiltered',
    matches: (c) => (c.before === '' || c.before === null) && typeof c.after === 'string' && c.after !== '',
    silenced: perRule('filter'),
  },
  {
    type: 'aws_s3_bucket_replication_configuration',
    path: 'rule.*.source_selection_criteria',
    reason:
      'moto 5.2.6 GetBucketReplication rebuilds each rule from ID, Priority, Status, DeleteMarkerReplication, Filter and Destination only (moto/s3/responses.py get_bucket_replication): SourceSelectionCriteria (replicate SSE-KMS objects) never reads back',
    matches: (c) => Array.isArray(c.before) && c.before.length === 0,
    silenced: perRule('source_selection_criteria'),
  },
  {
    type: 'aws_route53_zone',
    path: 'vpc',
    reason:
      'moto 5.2.6 CreateHostedZone keeps the VPC only when the request also says HostedZoneConfig.PrivateZone=true (moto/route53/responses.py create_hosted_zone); AWS makes a zone private whenever a VPC is given, and the provider sends only the VPC, so moto stores a public zone and GetHostedZone returns no VPCs',
    matches: (c) => Array.isArray(c.before) && c.before.length === 0 && Array.isArray(c.after) && c.after.length > 0,
    silenced: always('vpc'),
  },
  {
    type: 'aws_autoscaling_group',
    path: 'launch_template.*.version',
    reason: 'follows from the launch template artefact: the group tracks the template\'s latest_version, unknown until the new version exists',
    matches: becomesUnknown,
    silenced: { follows: 'aws_launch_template tag_specifications (the version it references stays known)' },
  },
];

/** Something the boot phase does differently from a node because moto answers unlike AWS. */
export interface BootWorkaround {
  readonly what: string;
  readonly reason: string;
}

/** Every deviation of the boot phase from what a node does, each with the moto code behind it. */
export const BOOT_WORKAROUNDS: readonly BootWorkaround[] = [
  {
    what: 'the etcd backup bucket\'s policy (TlsOnly: Deny s3:* unless aws:SecureTransport) is lifted while the snapshot is uploaded, read back and removed, and the service-account issuer bucket\'s (the same TlsOnly Deny beside its anonymous read of the two discovery objects) while the nodes publish and the run reads the documents back and removes them; both put back unchanged (the plan after the boot compares them)',
    reason:
      'moto 5.2.6 answers every object request to a bucket with that policy 403: FakeBucket.get_permission (moto/s3/models.py) evaluates the policy without request context, and TrustCondition.verify_condition (moto/iam/policy_conditions.py) counts a condition whose key has no value as met, so the Deny applies; AWS evaluates aws:SecureTransport true for the CLI\'s HTTPS requests',
  },
  {
    what: 'the nodes\' AWS CLI prints timestamps as ISO 8601 (cli_timestamp_format = iso8601)',
    reason: 'nodes install AWS CLI v2, whose default that is; the v1 CLI from PyPI prints the wire\'s epoch seconds, which join-material.sh (date -d on LastModifiedDate) cannot parse',
  },
  {
    what: 'SNAPSHOT_METRIC_FILE in each node\'s env file points into the node\'s directory',
    reason: 'the one absolute path a script writes that lib.sh does not let move (/var/lib/node-exporter on a node)',
  },
  {
    what: 'the dead initialiser is terminated with autoscaling terminate-instance-in-auto-scaling-group --no-should-decrement-desired-capacity (its ASG terminates it and launches the replacement), not ec2 terminate-instances',
    reason:
      'moto 5.2.6\'s ASG has no health checks: it launches instances only in FakeAutoScalingGroup.set_desired_capacity (moto/autoscaling/models.py), so an instance terminated through EC2 stays in the group, InService, and is never replaced; AWS\'s ASG replaces it once its health check sees it terminated. AutoScalingBackend.terminate_instance detaches it, sets the desired capacity again (a replacement in the same subnet, i.e. AZ) and terminates it',
  },
  {
    what: 'after the dead initialiser\'s termination the run detaches its secondary ENI (the etcd slot\'s member address), as EC2 does at termination',
    reason:
      'moto 5.2.6\'s Instance.terminate (moto/ec2/models/instances.py) only stops each NIC and deletes those with DeleteOnTermination; a secondary ENI without it stays attached, in-use, to the terminated instance, so the replacement would wait SLOT_WAIT_ATTEMPTS and fall back. EC2 detaches it (it stays, available). Volumes moto does detach (Instance.teardown_defaults), as EC2 does. test/etcd-slot-on-moto.test.ts shows both',
  },
  {
    what: 'after control-plane.sh leave (release_slot) the run detaches the slot volume with --instance-id when the node\'s own detach-volume --volume-id failed',
    reason:
      'moto 5.2.6\'s EBSBackend.detach_volume (moto/ec2/models/elastic_block_store.py) looks the instance up by the request\'s InstanceId, which is optional in the EC2 API: without it get_instance(None) raises and the server answers 500; AWS detaches the volume from whatever holds it. test/etcd-slot-on-moto.test.ts shows it',
  },
];
