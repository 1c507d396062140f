import { z } from 'zod';
import { DatabaseStore } from './database-store';
import { NodeImage } from './node-image';
import { isServiceAccountIdentityStage, SERVICE_ACCOUNT_IDENTITY_STAGES, ServiceAccountIdentity } from './service-account-identity';

/*
 * The shape of a cluster definition. Structural rules live here (types, ranges, formats);
 * rules that relate fields to each other live in validate.ts. Every optional field has a
 * default, documented with @default, so consumers always see a complete definition.
 */

const DNS_LABEL = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

/** WAL rate assumed until a cluster states its measured one (backups.databaseWalMiBPerMinute): 1 MiB/s. */
export const DEFAULT_DATABASE_WAL_MIB_PER_MINUTE = 60;

const dnsLabel = (max: number) =>
  z
    .string({ error: 'expected a string' })
    .max(max, { error: `expected at most ${max} characters (AWS resource name limits)` })
    .regex(DNS_LABEL, { error: 'expected a DNS label: lowercase letters, digits and "-", starting with a letter' });

const SERVICE_ACCOUNT_IDENTITY_EXPECTED =
  'expected ServiceAccountIdentity.acceptIssuer(), .signWithIssuer(), .webIdentity() or .complete()';

const HOSTED_ZONE_ID_EXPECTED = 'expected a Route 53 hosted zone id: "Z" then up to 31 capital letters and digits, such as Z0123456789ABCDEFGHIJ';

const positiveInt = (what: string, max: number) =>
  z
    .number({ error: `expected ${what}` })
    .int({ error: `expected a whole number of ${what}` })
    .min(1, { error: `expected at least 1 (${what})` })
    .max(max, { error: `expected at most ${max} (${what})` });

export const taintSchema = z.strictObject({
  key: z.string().regex(LABEL_KEY, { error: 'expected a Kubernetes label-style key' }),
  value: z.string().regex(LABEL_VALUE, { error: 'expected a Kubernetes label value (≤ 63 chars)' }).default(''),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'], {
    error: 'expected one of NoSchedule, PreferNoSchedule, NoExecute',
  }),
});

export const workerPoolSchema = z.strictObject({
  /** Pool name; part of ASG and node-group names. */
  name: dnsLabel(16),
  /** Instance types, first preferred; all should have similar capacity so the autoscaler can balance them. */
  instanceTypes: z.array(z.string()).min(1, { error: 'expected at least one instance type' }),
  /** Nodes per AZ at least. @default 1 */
  minPerAz: z.number().int().min(0, { error: 'expected 0 or more nodes per AZ' }).default(1),
  /** Nodes per AZ at most. @default 5 */
  maxPerAz: z.number().int().min(1, { error: 'expected at least 1 node per AZ' }).max(100, { error: 'expected at most 100 nodes per AZ' }).default(5),
  /** Percent of capacity above the on-demand base that runs on spot. @default 0 */
  spotPercentage: z.number().int().min(0, { error: 'expected a percentage from 0 to 100' }).max(100, { error: 'expected a percentage from 0 to 100' }).default(0),
  /** Root volume size. @default 50 */
  rootVolumeGiB: z.number().int().min(20, { error: 'expected at least 20 GiB (images and container layers)' }).max(2000).default(50),
  /** Node labels (also node-template tags so the autoscaler can scale from zero). @default {} */
  labels: z
    .record(
      z.string().regex(LABEL_KEY, { error: 'expected a Kubernetes label key' }),
      z.string().regex(LABEL_VALUE, { error: 'expected a Kubernetes label value (≤ 63 chars)' }),
    )
    .default({}),
  /** Node taints. @default [] */
  taints: z.array(taintSchema).default([]),
});

export const clusterDefinitionSchema = z.strictObject({
  /** Cluster name: prefix of every AWS name, so short and DNS-safe. */
  name: dnsLabel(20),
  /** What the cluster is for: changes defaults and which checks apply. */
  environment: z.enum(['staging', 'production', 'disaster-recovery'], {
    error: 'expected one of staging, production, disaster-recovery',
  }),
  region: z.string({ error: 'expected an AWS region name' }),
  availabilityZones: z.array(z.string()).min(1, { error: 'expected at least one Availability Zone' }),
  vpcCidr: z.string({ error: 'expected an IPv4 CIDR block' }),
  /** Full Kubernetes version, e.g. 1.34.1; packages are pinned to it. */
  kubernetesVersion: z.string().regex(/^\d+\.\d+\.\d+$/, { error: 'expected a full version such as 1.34.1' }),
  /** Pod and Service address ranges inside the cluster; must not overlap the VPC. */
  clusterNetwork: z.strictObject({
    /** @default '100.64.0.0/16' (CGNAT space, never routed in a VPC) */
    podCidr: z.string().default('100.64.0.0/16'),
    /** @default '100.65.0.0/16' */
    serviceCidr: z.string().default('100.65.0.0/16'),
  }).default({ podCidr: '100.64.0.0/16', serviceCidr: '100.65.0.0/16' }),
  controlPlane: z.strictObject({
    /** Control-plane nodes (stacked etcd). @default 3 */
    count: z.number().int().min(1, { error: 'expected at least 1 control-plane node' }).max(7, { error: 'expected at most 7 control-plane nodes (etcd write latency)' }).default(3),
    instanceType: z.string(),
    /** @default 50 */
    rootVolumeGiB: z.number().int().min(20, { error: 'expected at least 20 GiB (etcd, images)' }).max(2000).default(50),
  }),
  workerPools: z.array(workerPoolSchema).min(1, { error: 'expected at least one worker pool' }),
  apiEndpoint: z.strictObject({
    /** Who can reach the Kubernetes API load balancer. @default 'internal' */
    exposure: z.enum(['internal', 'internet-facing'], { error: 'expected internal or internet-facing' }).default('internal'),
    /** CIDRs allowed to reach TCP 6443 besides the VPC itself. @default [] */
    allowedCidrs: z.array(z.string()).default([]),
    /**
     * A Route 53 alias A record `names.apiHostname` (`api.<name>.<settings.dns.hostedZoneName>`)
     * for the load balancer, in the zone `settings.dns.hostedZoneId`; kubeadm's
     * controlPlaneEndpoint then uses it, and the API server certificate names it and the
     * load balancer's own DNS name. Needs `settings.dns`. @default false
     */
    dnsRecord: z.boolean({ error: 'expected true or false' }).default(false),
  }).default({ exposure: 'internal', allowedCidrs: [], dnsRecord: false }),
  /** `per-az`: a NAT gateway in every AZ, each private subnet routing to its own; `single`: one, cheaper. @default 'per-az' */
  nat: z.enum(['per-az', 'single'], { error: 'expected per-az or single' }).default('per-az'),
  /** NodeImage.ubuntu() (default: tools installed at first boot) or NodeImage.baked() (the region's image pipeline). */
  // A copied input (structuredClone, JSON) keeps only the strategy's `kind`: it is made a NodeImage again.
  nodeImage: z
    .union([z.instanceof(NodeImage), z.strictObject({ kind: z.enum(['ubuntu', 'baked']) })], { error: 'expected NodeImage.ubuntu() or NodeImage.baked()' })
    .transform((image) => (image instanceof NodeImage ? image : NodeImage.of(image.kind)))
    .default(() => NodeImage.ubuntu()),
  backups: z.strictObject({
    /** Minutes between etcd snapshots. @default 15 */
    etcdSnapshotIntervalMinutes: z.number().int().min(1, { error: 'expected 1 to 60 minutes' }).max(60, { error: 'expected 1 to 60 minutes' }).default(15),
    /** Days a snapshot is kept. @default 14 */
    retentionDays: positiveInt('days', 3650).default(14),
    /** Region the backup bucket replicates to; none when unset. @default - no cross-region replication */
    replicaRegion: z.string().optional(),
    /**
     * Where the app database writes its own archive (WAL and base backups): DatabaseStore.standbyRegion()
     * or DatabaseStore.ownRegion(). Only the primary's `spec.backup` moves; the standby keeps replaying
     * the folder in its region. @default - databaseStoreOf: standbyRegion() for a failover primary, else ownRegion()
     */
    // A copied input (structuredClone, JSON) keeps only the strategy's `kind`: it is made a DatabaseStore again.
    databaseStore: z
      .union([z.instanceof(DatabaseStore), z.strictObject({ kind: z.enum(['standby-region', 'own-region']) })], { error: 'expected DatabaseStore.standbyRegion() or DatabaseStore.ownRegion()' })
      .transform((store) => (store instanceof DatabaseStore ? store : DatabaseStore.of(store.kind)))
      .optional(),
    /**
     * WAL the app database writes at its busiest, MiB per minute: measure with `pg_stat_wal.wal_bytes`
     * sampled over a busy hour (the difference / 60 / 2^20). Sizes the WAL volume for an archive outage
     * (k8s-addons postgres) and the replay of a promotion (ha-check) alike. @default DEFAULT_DATABASE_WAL_MIB_PER_MINUTE (60: 1 MiB/s, assumed)
     */
    databaseWalMiBPerMinute: z.number({ error: 'expected MiB per minute' }).positive({ error: 'expected more than 0 MiB per minute' }).max(16_384, { error: 'expected at most 16384 MiB per minute' }).default(DEFAULT_DATABASE_WAL_MIB_PER_MINUTE),
  }).default({ etcdSnapshotIntervalMinutes: 15, retentionDays: 14, databaseWalMiBPerMinute: DEFAULT_DATABASE_WAL_MIB_PER_MINUTE }),
  gitops: z.strictObject({
    /** Branch Flux follows. @default 'main' */
    branch: z.string().regex(/^[A-Za-z0-9._/-]+$/, { error: 'expected a Git branch name' }).default('main'),
    /** Folder Flux reconciles. @default `clusters/<name>` */
    path: z.string().regex(/^[a-z0-9][a-z0-9._/-]*$/, { error: 'expected a relative path such as clusters/production' }).optional(),
    /** Minutes between Flux syncs. @default 5 */
    intervalMinutes: positiveInt('minutes', 60).default(5),
    /**
     * How Flux reads the repository. `token`: a private repository, read with the token an
     * operator puts at `names.ssm.gitCredentials` (install-addons.sh turns it into the Secret
     * `FLUX_INSTANCE_NAMES.gitSecret` of @platform/core-addons); `none`: a public repository, no Secret. @default 'token'
     */
    auth: z.enum(['token', 'none'], { error: 'expected token (private repository, token at names.ssm.gitCredentials) or none (public repository)' }).default('token'),
  }).default({ branch: 'main', intervalMinutes: 5, auth: 'token' }),
  objectives: z.strictObject({
    /** The cluster and its apps survive the loss of any one AZ. */
    tolerateAzLoss: z.boolean({ error: 'expected true or false' }),
    /** The workload survives the loss of this region through a standby cluster. @default false */
    tolerateRegionLoss: z.boolean({ error: 'expected true or false' }).default(false),
    /** Seconds the API may be unreachable after an AZ fails. */
    apiRtoSeconds: positiveInt('seconds', 3600),
    /** Seconds apps may run degraded (pods not rescheduled) after an AZ fails. */
    appRtoSeconds: positiveInt('seconds', 86400),
    /** Minutes of cluster state (etcd) that may be lost in a disaster. */
    rpoMinutes: positiveInt('minutes', 1440),
    /**
     * Seconds users may be without the app when the whole region is lost: Route 53 detection, the
     * standby's promotion (docs/runbooks/region-failover.md) and the DNS TTL. Needs a standby.
     * @default - none: the regional recovery is estimated (ha-check) but held to no number
     */
    regionRtoSeconds: positiveInt('seconds', 86400).optional(),
    /**
     * Seconds of committed writes a regional failover may lose (the WAL archive timeout + the
     * archiver's bound + replication, 0 for an archive written into the standby's region:
     * REGIONAL_RPO_SECONDS). Needs a standby.
     * @default - none: estimated but held to no number
     */
    regionRpoSeconds: positiveInt('seconds', 86400).optional(),
    /**
     * Seconds from a load step to every HPA at its maxReplicas with its pods Ready: metrics-server
     * resolution, HPA sync and scale-up steps, cluster-autoscaler scan, EC2 launch, node boot and
     * join, pod start (ha-check's elasticity analysis, docs/ha-check.md "Elasticity").
     * @default - none: estimated but held to no number
     */
    scaleOutSeconds: positiveInt('seconds', 3600).optional(),
  }),
  /**
   * Where the cluster stands in its move to workload identities (IRSA): one stage per reviewed
   * pull request for a cluster that ran before it (docs/runbooks/service-account-issuer.md).
   * @default ServiceAccountIdentity.complete() (every new cluster)
   */
  serviceAccountIdentity: z
    .strictObject(
      {
        stage: z.enum(SERVICE_ACCOUNT_IDENTITY_STAGES),
        apiServer: z.strictObject({ signs: z.enum(['legacy', 'cluster']) }),
        podCredentials: z.enum(['node-role', 'web-identity']),
        nodeRolesKeepAddOnRights: z.boolean(),
        legacyBackupUser: z.boolean(),
      },
      { error: SERVICE_ACCOUNT_IDENTITY_EXPECTED },
    )
    .refine(isServiceAccountIdentityStage, { error: SERVICE_ACCOUNT_IDENTITY_EXPECTED })
    .default(ServiceAccountIdentity.complete()),
  /** Regional failover: the cluster in another region that takes over. @default - none */
  failover: z
    .strictObject({
      standbyCluster: z.string(),
      /**
       * How the failover is decided (part of the regional RTO no Terraform shows).
       * @default - none: ha-check counts the runbook's bound for a person's decision (600 s)
       */
      decision: z
        .strictObject(
          {
            kind: z.enum(['on-call', 'pre-authorised']),
            terms: z.array(z.strictObject({ name: z.string(), seconds: z.number().int().nonnegative(), source: z.enum(['policy', 'assumed']), why: z.string() })).readonly(),
            seconds: z.number().int().nonnegative(),
          },
          { error: 'expected FailoverDecision.onCall({ pageSeconds, decideSeconds }) or FailoverDecision.preAuthorised({ failedForSeconds, acknowledgeSeconds })' },
        )
        .optional(),
    })
    .optional(),
});

export const platformSettingsSchema = z.strictObject({
  /**
   * A demo or test platform whose values are placeholders (documentation address ranges, a
   * made-up hosted zone): validation lets them through and `pipeline apply` refuses to apply
   * any of its stacks. A platform that is applied leaves it false, and validation then rejects
   * placeholder values. @default false
   */
  example: z.boolean({ error: 'expected true or false' }).default(false),
  /** Short organisation prefix for globally unique names (S3 buckets). */
  organization: dnsLabel(12),
  /**
   * The AWS account the platform's stacks are applied to (the CI identity stack is per account).
   * Manifests need it where AWS wants a full address rather than a name: the node termination
   * handler's SQS queue URL. The cluster stack checks it when it creates the queue (a
   * postcondition on the queue's real URL), so a wrong id fails the apply, not the drains.
   * @default - none: the node termination handler add-on refuses to render without it
   */
  accountId: z.string().regex(/^[0-9]{12}$/, { error: 'expected a 12-digit AWS account id' }).optional(),
  github: z.strictObject({
    owner: z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, { error: 'expected a GitHub user or organisation name' }),
    repository: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, { error: 'expected a GitHub repository name' }),
    /** Protected environment that gates applies. @default 'production' */
    applyEnvironment: z.string().default('production'),
    /** @default 'main' */
    mainBranch: z.string().default('main'),
  }),
  /** Public DNS for the sample app: Route 53 failover records between a cluster and its standby. */
  dns: z.strictObject({
    /** Existing public hosted zone, e.g. example.com. */
    hostedZoneName: z.string().regex(/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/, { error: 'expected a DNS zone name such as example.com' }),
    /**
     * Id of that hosted zone (Route 53 console or `aws route53 list-hosted-zones-by-name`).
     * Given here rather than looked up so `terraform plan` needs no data source.
     */
    hostedZoneId: z
      .string({ error: HOSTED_ZONE_ID_EXPECTED })
      .regex(/^Z[A-Z0-9]{1,31}$/, { error: HOSTED_ZONE_ID_EXPECTED }),
    /** Record (relative to the zone) that fails over between regions. @default 'app' */
    appRecord: z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, { error: 'expected a DNS label such as app' }).default('app'),
    /**
     * Seconds clients may cache the answer; part of the regional RTO. Must be 60 while a failover
     * pair exists (alias records of load balancers have Route 53's fixed 60 s TTL). @default 60
     */
    ttlSeconds: z.number().int().min(10, { error: 'expected 10 to 300 seconds' }).max(300, { error: 'expected 10 to 300 seconds' }).default(60),
  }).optional(),
  state: z.strictObject({
    /** S3 bucket holding Terraform state; made once by docs/runbooks/state-bootstrap.md. */
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: 'expected an S3 bucket name' }),
    /**
     * Region of that bucket and of its lock objects. Outside both regions of a failover pair
     * (validated): losing either region must leave the other's stacks plannable and applicable.
     */
    region: z.string(),
  }),
});

export type ClusterDefinitionInput = z.input<typeof clusterDefinitionSchema>;
export type ClusterDefinition = z.output<typeof clusterDefinitionSchema>;
export type WorkerPool = z.output<typeof workerPoolSchema>;
export type Taint = z.output<typeof taintSchema>;
export type PlatformSettingsInput = z.input<typeof platformSettingsSchema>;
export type PlatformSettings = z.output<typeof platformSettingsSchema>;
