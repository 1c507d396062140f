import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bakedImageRegions, defaultPlatform, nodeImageStackName, loadPlatform, NODE_TERMINATION_EVENTS, platformInput, type ClusterDefinition, type ClusterDefinitionInput, type Platform, type PlatformInput } from '@platform/platform-config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthInfra } from '../src/main';
import { offlineTerraformUnavailable, OfflineTerraform, type PlanResult } from './offline-terraform';

const unavailable = offlineTerraformUnavailable();
if (unavailable) console.warn(`\n!!! SKIPPED: offline terraform plan: ${unavailable}. The stacks were NOT planned. !!!\n`);

/** The ingress NLB's listeners (HTTP, HTTPS), each with its own target group. */
const INGRESS_LISTENERS = 2;

/** Backup buckets per cluster: etcd snapshots and app (PostgreSQL) backups. */
const BACKUP_BUCKETS = 2;

/** What a cluster definition implies the plan must create, type by type (0 = none of that type). */
function expectedCreates(platform: Platform, cluster: ClusterDefinition): Record<string, number> {
  const zones = cluster.availabilityZones.length;
  // A primary (names a standby) or a standby (named by a primary) gets one half of the app's failover pair.
  const failoverHalf = platform.failoverRoleOf(cluster) ? 1 : 0;
  const replicated = cluster.backups.replicaRegion !== undefined;
  // A failover primary writes its database archive into the standby region's bucket: S3 copies it back.
  const names = platform.namesOf(cluster);
  const archiveHome = replicated && names.appWalArchive.bucket === names.appBackupReplicaBucket ? 1 : 0;
  // Every cluster has the internal API NLB (the nodes' endpoint); an exposed one also the public NLB.
  const apiLoadBalancers = cluster.apiEndpoint.exposure === 'internet-facing' ? 2 : 1;
  return {
    aws_subnet: 2 * zones,
    aws_nat_gateway: cluster.nat === 'single' ? 1 : zones,
    aws_route: 1 + zones,
    // the API endpoints and the ingress load balancer
    aws_lb: apiLoadBalancers + 1,
    aws_lb_listener: apiLoadBalancers + INGRESS_LISTENERS,
    aws_lb_target_group: apiLoadBalancers + INGRESS_LISTENERS,
    aws_route53_health_check: failoverHalf,
    // the cluster's private zone for the in-cluster API name
    aws_route53_zone: 1,
    // the failover half, the private API record, and the public API record when the definition asks for one
    aws_route53_record: failoverHalf + 1 + (platform.namesOf(cluster).apiHostname ? 1 : 0),
    aws_autoscaling_group: cluster.controlPlane.count + cluster.workerPools.length * zones,
    aws_launch_template: cluster.controlPlane.count + cluster.workerPools.length,
    // etcd snapshots and app (PostgreSQL) backups, each with a replica when a replica region is set;
    // the node bootstrap bundles; the service-account issuer's discovery documents
    aws_s3_bucket: BACKUP_BUCKETS * (replicated ? 2 : 1) + 2,
    // one script bundle per node role (control plane, workers)
    aws_s3_object: 2,
    // the service-account issuer's IAM OIDC provider (IRSA)
    aws_iam_openid_connect_provider: 1,
    // and a failover primary's archive in the standby region copied back home (ArchiveHomeCopy)
    aws_s3_bucket_replication_configuration: (replicated ? BACKUP_BUCKETS : 0) + archiveHome,
    // the backup buckets' replica keys, besides the cluster key and the node-termination queue's key
    aws_kms_key: 2 + (replicated ? BACKUP_BUCKETS : 0) + failoverHalf,
    // the game day's stop condition, and the failover half's page in us-east-1: the alarm on its
    // health check, the topic, the topic's key (above); the on-call's subscription is made by hand
    aws_cloudwatch_metric_alarm: 1 + failoverHalf,
    aws_sns_topic: failoverHalf,
    aws_sns_topic_policy: failoverHalf,
    aws_sns_topic_subscription: 0,
    // node-termination handling: one queue, a rule and a target per event kind, a terminating hook on
    // every node ASG and a launching hook on each control-plane ASG
    aws_sqs_queue: 1,
    aws_cloudwatch_event_rule: NODE_TERMINATION_EVENTS.length,
    aws_cloudwatch_event_target: NODE_TERMINATION_EVENTS.length,
    aws_autoscaling_lifecycle_hook: 2 * cluster.controlPlane.count + cluster.workerPools.length * zones,
    // no IAM user and no key: every workload identity is a web-identity role (docs/identity.md)
    aws_iam_user: 0,
    aws_iam_user_policy: 0,
    aws_iam_access_key: 0,
    // one AZ-failure template per AZ (a game day takes away any one zone)
    aws_fis_experiment_template: zones,
    // one etcd slot per control-plane node: its volume and its member address (docs/decisions/etcd-volumes.md)
    aws_ebs_volume: cluster.controlPlane.count,
    aws_network_interface: cluster.controlPlane.count,
  };
}

/** The plan's creates for the expected types, absent types counted as 0. */
const createsOf = (result: PlanResult, expected: Record<string, number>) => Object.fromEntries(Object.keys(expected).map((type) => [type, result.creates[type] ?? 0]));

describe.skipIf(unavailable !== undefined)('offline terraform validate + plan of every stack', () => {
  const platform = defaultPlatform();
  const outdir = mkdtempSync(join(tmpdir(), 'infra-plan-synth-'));
  const terraform = new OfflineTerraform();
  const results = new Map<string, PlanResult>();
  const synthesizedCount = (stackDir: string, stack: string) => {
    const json = JSON.parse(readFileSync(join(stackDir, 'stacks', stack, 'cdk.tf.json'), 'utf8'));
    return Object.values(json.resource as Record<string, object>).reduce((n, r) => n + Object.keys(r).length, 0);
  };
  const planStack = async (dir: string, stack: string) => {
    await terraform.load(join(dir, 'stacks', stack, 'cdk.tf.json'));
    return terraform.validateAndPlan();
  };

  beforeAll(async () => {
    await synthInfra(outdir, platform);
  });
  afterAll(() => {
    const rows = [...results].map(([stack, r]) => `  ${stack.padEnd(28)} ${String(r.totalCreates).padStart(4)} to add   validate ${r.seconds.validate.toFixed(1)} s   plan ${r.seconds.plan.toFixed(1)} s`);
    console.log(`offline plan (init ${terraform.initSeconds.toFixed(1)} s, shared by all stacks):\n${rows.join('\n')}`);
    terraform.dispose();
    rmSync(outdir, { recursive: true, force: true });
  });

  for (const cluster of defaultPlatform().clusters) {
    const stack = defaultPlatform().namesOf(cluster).stack;
    it(`plans ${stack}: only creates, as many as synthesized, per-type counts from its definition`, async () => {
      const result = await planStack(outdir, stack);
      results.set(stack, result);
      expect(result.otherActions).toBe(0);
      expect(result.totalCreates).toBe(synthesizedCount(outdir, stack));
      const expected = expectedCreates(platform, cluster);
      expect(createsOf(result, expected)).toEqual(expected);
    });
  }

  it(`plans ${platform.names.ciIdentityStack}: the OIDC provider, one role per CI identity (plan, apply, drift, fence, failover, release) and the plan key`, async () => {
    const result = await planStack(outdir, platform.names.ciIdentityStack);
    results.set(platform.names.ciIdentityStack, result);
    // Inline policies: plan and drift (terraform-plan), fence, failover, release (app-release).
    expect(result.creates).toMatchObject({ aws_iam_openid_connect_provider: 1, aws_iam_role: Object.keys(platform.names.ciSubjects).length, aws_iam_role_policy: 5, aws_kms_key: 1, aws_kms_alias: 1 });
    expect(result.totalCreates).toBe(17);
    expect(result.totalCreates).toBe(synthesizedCount(outdir, platform.names.ciIdentityStack));
  });

  for (const [region, versions] of bakedImageRegions(platform.clusters)) {
    const stack = nodeImageStackName(region);
    it(`plans ${stack}: one Image Builder pipeline per baked Kubernetes version, its own VPC, key and builder profile`, async () => {
      const result = await planStack(outdir, stack);
      results.set(stack, result);
      expect(result.otherActions).toBe(0);
      expect(result.totalCreates).toBe(synthesizedCount(outdir, stack));
      // The shipped clusters are x86_64 only: one pipeline per version.
      const perPipeline = { aws_imagebuilder_component: 1, aws_imagebuilder_image_recipe: 1, aws_imagebuilder_infrastructure_configuration: 1, aws_imagebuilder_distribution_configuration: 1, aws_imagebuilder_image_pipeline: 1 };
      expect(result.creates).toMatchObject({
        ...Object.fromEntries(Object.entries(perPipeline).map(([type, n]) => [type, n * versions.length])),
        aws_vpc: 1, aws_subnet: 1, aws_internet_gateway: 1, aws_kms_key: 1, aws_kms_key_policy: 1, aws_iam_role: 1, aws_iam_instance_profile: 1, aws_security_group: 1, aws_vpc_security_group_egress_rule: 2,
      });
      expect(result.creates.aws_nat_gateway).toBeUndefined();
    });
  }

  // Issue 19 item 6: while the primary's region is down, the standby's stacks (and the CI
  // identity every workflow needs) must still init, plan and apply. Terraform's own view of
  // the plan gives every provider configuration's region; the backend is the committed block.
  it("needs no provider or state backend in the primary's region for any stack the standby needs while it is down", async () => {
    const pair = platform.clusters.map((c) => platform.failoverRoleOf(c)).find((role) => role !== undefined);
    expect(pair, 'the shipped platform has a failover pair').toBeDefined();
    const { primary, standby } = pair!;
    for (const stack of [platform.namesOf(standby).stack, platform.names.ciIdentityStack]) {
      const result = results.get(stack) ?? (await planStack(outdir, stack));
      const regions = { ...Object.fromEntries(Object.entries(result.providerRegions).map(([key, region]) => [`provider ${key}`, region])), 'backend s3': result.backend?.s3?.region };
      for (const [what, region] of Object.entries(regions)) {
        expect(region, `${stack}: ${what} has no constant region`).toBeDefined();
        expect(region, `${stack}: ${what} is in ${primary.name}'s region`).not.toBe(primary.region);
      }
      expect(result.backend?.s3, `${stack}: state in platform-config's bucket and region, S3-native lock`).toMatchObject({ bucket: platform.names.stateBucket, region: platform.settings.state.region, use_lockfile: true });
    }
  });

  it('plans 5 control-plane nodes over 4 AZs and no public API record as the definition change implies', async () => {
    const input = structuredClone(platformInput) as { settings: PlatformInput['settings']; clusters: ClusterDefinitionInput[] };
    const production = input.clusters.find((c) => c.name === 'production') as ClusterDefinitionInput;
    production.controlPlane.count = 5;
    production.availabilityZones = ['ap-northeast-2a', 'ap-northeast-2b', 'ap-northeast-2c', 'ap-northeast-2d'];
    production.apiEndpoint = { ...production.apiEndpoint, dnsRecord: false };
    const variantDir = mkdtempSync(join(tmpdir(), 'infra-plan-variant-'));
    try {
      await synthInfra(variantDir, input);
      const result = await planStack(variantDir, 'production-cluster');
      results.set('production-cluster (5 CP, 4 AZ)', result);
      const base = results.get('production-cluster') ?? (await planStack(outdir, 'production-cluster'));
      const delta = (type: string) => (result.creates[type] ?? 0) - (base.creates[type] ?? 0);
      // one more AZ: 2 subnets, NAT + address, private route table + route; +2 CP nodes; +1 ASG per pool
      expect({ subnets: delta('aws_subnet'), nat: delta('aws_nat_gateway'), eip: delta('aws_eip'), routes: delta('aws_route'), asgs: delta('aws_autoscaling_group'), templates: delta('aws_launch_template') })
        .toEqual({ subnets: 2, nat: 1, eip: 1, routes: 1, asgs: 2 + 2, templates: 2 });
      // the same load balancers (cross-zone, the new AZ's subnets join them); one record less: the public API alias
      expect([delta('aws_lb'), delta('aws_lb_target_group'), delta('aws_route53_record')]).toEqual([0, 0, -1]);
      const variant = loadPlatform(input);
      const expected = expectedCreates(variant, variant.cluster('production'));
      expect(createsOf(result, expected)).toEqual(expected);
    } finally {
      rmSync(variantDir, { recursive: true, force: true });
    }
  });
}, 600_000);
