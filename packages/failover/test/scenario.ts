import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultPlatform } from '@platform/platform-config';
import { parseAllDocuments } from 'yaml';
import { GENERATED_CLUSTERS, runWithFakes, startIngress, type CnpgModel, type FakeIngress, type FakeRun, type Response, type Rule, type S3Object } from './harness';

/** Scripted AWS / cluster answers for production (Seoul) → dr (Tokyo). */
export const DR_ASGS = ['dr-general-a', 'dr-general-c', 'dr-general-d'];
export const DR_ZONES = ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'];
export const PROD_ZONES = ['ap-northeast-2a', 'ap-northeast-2b', 'ap-northeast-2c'];
export const DR_NLB_IPS = ['198.51.100.10', '198.51.100.11', '198.51.100.12'];
export const PROD_NLB_IPS = ['203.0.113.20', '203.0.113.21', '203.0.113.22'];

export const asgs = (min: number, desired: number, inService: number, names = DR_ASGS): Response => ({
  stdout: {
    AutoScalingGroups: names.map((name) => ({
      AutoScalingGroupName: name,
      MinSize: min,
      MaxSize: 10,
      DesiredCapacity: desired,
      Instances: Array.from({ length: inService }, () => ({ LifecycleState: 'InService', HealthStatus: 'Healthy' })),
    })),
  },
});

export const nodes = (zones: string[], perZone: number): Response => ({
  stdout: {
    items: [
      ...zones.map((z) => ({ metadata: { labels: { 'topology.kubernetes.io/zone': z, 'node-role.kubernetes.io/control-plane': '' } }, status: { conditions: [{ type: 'Ready', status: 'True' }] } })),
      ...zones.flatMap((z) =>
        Array.from({ length: perZone }, () => ({ metadata: { labels: { 'topology.kubernetes.io/zone': z } }, status: { conditions: [{ type: 'Ready', status: 'True' }] } })),
      ),
    ],
  },
});

const health = (ok: boolean): Response => ({
  stdout: { HealthCheckObservations: Array.from({ length: 8 }, (_, i) => ({ Region: `r${i}`, StatusReport: { Status: ok ? 'Success: HTTP Status Code 200, OK' : 'Failure: Connection timed out' } })) },
});

const platform = defaultPlatform();
/** Where production's archive is replicated (Tokyo), and dr's own bucket. */
export const REPLICA_BUCKET = platform.namesOf(platform.cluster('production')).appBackupReplicaBucket!;
export const DR_BUCKET = platform.namesOf(platform.cluster('dr')).appBackupBucket;
/** production's own bucket (Seoul), which S3 replicates into REPLICA_BUCKET. */
export const PRODUCTION_BUCKET = platform.namesOf(platform.cluster('production')).appBackupBucket;
export const DR_NLB = { dns: 'dr-ingress-0123.elb.ap-northeast-1.amazonaws.com', zone: 'Z31USIVHYNEOWT' };
export const PROD_NLB = { dns: 'production-ingress-4567.elb.ap-northeast-2.amazonaws.com', zone: 'ZIBE1TIR4HY56' };

/** The `aws route53 change-resource-record-sets` the tool issues to point the PRIMARY record at `nlb`. */
export function primaryUpsertCall(nlb: { readonly dns: string; readonly zone: string }, evaluateTargetHealth: boolean): string {
  const batch = {
    Comment: `region failover: PRIMARY app.hakube.example.com -> ${nlb.dns}`,
    Changes: [
      {
        Action: 'UPSERT',
        ResourceRecordSet: {
          Name: 'app.hakube.example.com',
          Type: 'A',
          SetIdentifier: 'production',
          Failover: 'PRIMARY',
          HealthCheckId: 'hc-production',
          AliasTarget: { HostedZoneId: nlb.zone, DNSName: nlb.dns, EvaluateTargetHealth: evaluateTargetHealth },
        },
      },
    ],
  };
  return `aws route53 change-resource-record-sets --hosted-zone-id Z0HAKUBE --change-batch ${JSON.stringify(batch)} --output json`;
}

/** An object written `ageSeconds` before now (S3's LastModified is whole seconds). */
export const objectAged = (Key: string, ageSeconds: number): S3Object => ({ Key, LastModified: new Date(Math.floor(Date.now() / 1000 - ageSeconds) * 1000).toISOString().replace('.000Z', '+00:00') });

/** A live archive: WAL segments every 60 s up to `newestAgeSeconds` ago, and a base backup, under `serverName`. */
export function archive(serverName: string, newestAgeSeconds: number, segments = 5): S3Object[] {
  const base = `postgres/orders/${serverName}`;
  return [
    objectAged(`${base}/base/20260101T030000/data.tar.gz`, newestAgeSeconds + 86400),
    ...Array.from({ length: segments }, (_, i) => objectAged(`${base}/wals/0000000100000000/0000000100000000000000${String(10 + i)}.gz`, newestAgeSeconds + 60 * (segments - 1 - i))),
  ];
}

/** dr's `data/orders` as Git generates it (a replica cluster), running as CNPG reports a healthy one. */
export function generatedStandbyCluster(): Record<string, unknown> {
  const docs = parseAllDocuments(readFileSync(join(GENERATED_CLUSTERS, 'dr', 'apps', 'postgres.yaml'), 'utf8')).map((d) => d.toJSON() as { kind?: string });
  const cluster = docs.find((d) => d?.kind === 'Cluster')!;
  return { ...cluster, status: { phase: 'Cluster in healthy state', currentPrimary: 'orders-1', targetPrimary: 'orders-1', timelineID: 1, instances: 3, readyInstances: 3 } };
}

/** production's `data/orders` as Git generates it, running (the returned primary, diverged since the promotion). */
export function generatedPrimaryCluster(): Record<string, unknown> {
  const docs = parseAllDocuments(readFileSync(join(GENERATED_CLUSTERS, 'production', 'apps', 'postgres.yaml'), 'utf8')).map((d) => d.toJSON() as { kind?: string });
  const cluster = docs.find((d) => d?.kind === 'Cluster')!;
  return { ...cluster, status: { phase: 'Cluster in healthy state', currentPrimary: 'orders-1', targetPrimary: 'orders-1', timelineID: 1, instances: 3, readyInstances: 3 } };
}

/** dr's database as a promotion leaves it: Git's replica cluster, promoted (`replica.primary` = itself), archiving under orders-r0. */
export function promotedStandby(): Record<string, unknown> {
  const cluster = generatedStandbyCluster() as { spec: { replica: { primary: string }; backup: { barmanObjectStore: { serverName: string } } } };
  cluster.spec.replica.primary = 'dr';
  cluster.spec.backup.barmanObjectStore.serverName = 'orders-r0';
  return cluster;
}

/**
 * `cluster` (production's Git Cluster) as rebuild-primary-replica leaves it: a replica of dr whose
 * external cluster `dr` names dr's live archive (orders-r0, where the promoted dr archives), not
 * Git's pre-promotion folder.
 */
export function followingDrArchive<T extends Record<string, unknown>>(cluster: T, replica: Record<string, unknown> = { self: 'production', primary: 'dr', source: 'dr' }): T {
  const spec = cluster.spec as { replica?: unknown; externalClusters: { name: string; barmanObjectStore: { serverName?: string } }[] };
  spec.replica = replica;
  spec.externalClusters = spec.externalClusters.map((e) => (e.name === 'dr' ? { ...e, barmanObjectStore: { ...e.barmanObjectStore, serverName: 'orders-r0' } } : e));
  return cluster;
}

/** The LSN just past a record in `segment` (24 hex digits, 16 MiB segments). */
export const lsnIn = (segment: string): string => `${parseInt(segment.slice(8, 16), 16).toString(16).toUpperCase()}/${(parseInt(segment.slice(16), 16) * 0x1000000 + 0x60).toString(16).toUpperCase()}`;

/** A CNPG Backup's `kubectl get -o json` in `phase`. */
export const backupIn = (phase: string, extra: Record<string, unknown> = {}): Response => ({
  stdout: { status: { phase, ...(phase === 'completed' ? { backupId: '20260101T121500', stoppedAt: '2026-01-01T12:16:00Z' } : {}), ...extra } },
});

const hex8 = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');

/** A WAL segment's name (16 MiB segments: 256 per log). */
export const segmentName = (timeline: number, segno: number): string => `${hex8(timeline)}${hex8(Math.floor(segno / 256))}${hex8(segno % 256)}`;

/**
 * A server folder's WAL as barman-cloud writes it: `count` gzip'd segments of `timeline`
 * from `first`, one every `spacingSeconds`, the newest `newestAgeSeconds` old, under
 * `wals/<timeline+log>/`.
 */
export function walSegments(serverName: string, props: { readonly timeline?: number; readonly first?: number; readonly count: number; readonly newestAgeSeconds: number; readonly spacingSeconds?: number }): S3Object[] {
  const { timeline = 1, first = 0x10, count, newestAgeSeconds, spacingSeconds = 60 } = props;
  return Array.from({ length: count }, (_, i) => {
    const name = segmentName(timeline, first + i);
    return objectAged(`postgres/orders/${serverName}/wals/${name.slice(0, 16)}/${name}.gz`, newestAgeSeconds + spacingSeconds * (count - 1 - i));
  });
}

export interface ScenarioProps {
  readonly ingress: string;
  readonly primaryHealthy?: boolean;
  readonly asgResponses?: readonly Response[];
  readonly nodeResponses?: readonly Response[];
  readonly databaseWait?: Response;
  readonly dnsAnswer?: readonly string[];
  /** Objects in production's replica bucket (Tokyo). @default a live archive under `orders`, newest WAL 30 s old */
  readonly replica?: readonly S3Object[];
  /** Objects in dr's own bucket. @default none */
  readonly drBucket?: readonly S3Object[];
  /** Objects in production's own bucket. @default none */
  readonly productionBucket?: readonly S3Object[];
  /** S3 replication production's bucket → REPLICA_BUCKET: seconds before a new object appears there. @default 0 */
  readonly replicationLagSeconds?: number;
  /** production's `data/orders` as `kubectl get -o json` shows it (fence). @default running, not hibernated */
  readonly primaryDatabase?: Response;
  /** `kubectl get backups -l …purpose=fenced` on production. @default one completed fenced backup of orders */
  readonly fencedBackups?: Response;
  /** dr's CNPG Cluster as the fake operator starts it. @default generatedStandbyCluster() */
  readonly standbyCluster?: Record<string, unknown>;
  /** Where dr's replica has replayed to (`pg_last_wal_replay_lsn()`). @default inside the default archive's newest segment */
  readonly replayLsn?: string;
  /** Polls before the fake operator reports a changed cluster healthy. @default 2 */
  readonly settlePolls?: number;
  /** The on-demand Backups' `kubectl get -o json`, in order (the last repeats). @default running, then completed */
  readonly backupPolls?: readonly Response[];
  /** The promoted marker's value before the run; null: absent. @default dr serves since 2026-01-01T11:00:00Z */
  readonly marker?: string | null;
  readonly extra?: readonly Rule[];
  /** The us-east-1 page alarms' ActionsEnabled before the run. @default production armed, dr silent (as Terraform creates them) */
  readonly alarms?: Readonly<Record<string, { readonly ActionsEnabled: boolean }>>;
  /** Models production's `data/orders` with the fake operator (fail-back by switchover). @default answered by plain rules */
  readonly primaryCluster?: Partial<CnpgModel>;
  /** More of dr's fake operator model (e.g. the LSN it wrote up to, a demotion that never archives). */
  readonly standbyModel?: Partial<CnpgModel>;
}

/** dr's last write while it served: the REDO location of its shutdown checkpoint once demoted. */
export const DR_WROTE = '0/14000060';
/** The base backup promotion's base-backup step took of dr's new timeline (after the marker's 11:00). */
export const DR_PROMOTED_BASE: S3Object = { Key: 'postgres/orders/orders-r0/base/20260101T111500/backup.info', LastModified: '2026-01-01T11:16:00+00:00' };
/** Where production's rebuilt replica starts replaying (dr's base backup): four segments behind. */
export const REPLICA_BOOTSTRAP = '0/10000000';

/**
 * A fail-back's world: production back (healthy check, its workers Ready, its database modelled by
 * the fake operator), dr promoted and serving (its page alarm armed by open-standby).
 */
export function failbackScenario(p: ScenarioProps): Rule[] {
  return scenario({
    primaryHealthy: true,
    nodeResponses: [nodes(PROD_ZONES, 2)],
    asgResponses: [asgs(2, 2, 2), asgs(1, 1, 2)],
    dnsAnswer: PROD_NLB_IPS,
    standbyCluster: promotedStandby(),
    standbyModel: { writeLsn: DR_WROTE },
    // dr's live archive (orders-r0): the base backup the promotion's base-backup step took; its WAL is what the dr model archives.
    drBucket: [DR_PROMOTED_BASE],
    primaryCluster: { bootstrapLsn: REPLICA_BOOTSTRAP },
    alarms: { 'production-app-health-check': { ActionsEnabled: true }, 'dr-app-health-check': { ActionsEnabled: true } },
    ...p,
  });
}

/** Fail-back's steps from verify-app on: the same after the switchover and after --rebuild. */
export const FAILBACK_FINAL_STEPS = [
  'verify-app',
  'record-archive-server-name',
  'close-standby',
  'dns-report',
  'base-backup',
  'rearm-standby',
  'scale-standby-down',
  'clear-promoted-marker',
  'verify-pilot-light',
  'record-serving-state',
  'deploy-refs',
];

/** `failover failback --primary production --replace-database` (fast polls) in failbackScenario's world, behind a fresh fake ingress. */
export async function runFailback(args: readonly string[], overrides: Partial<ScenarioProps> = {}): Promise<{ web: FakeIngress; run: FakeRun }> {
  const web = await startIngress();
  const run = await runWithFakes(['failback', '--primary', 'production', '--replace-database', '--poll-seconds', '0', '--probe-attempts', '2', ...args], failbackScenario({ ingress: web.endpoint, ...overrides }));
  return { web, run };
}

export function scenario(p: ScenarioProps): Rule[] {
  return [
    ...(p.extra ?? []),
    ...(p.primaryCluster
      ? [
          {
            tool: 'kubectl' as const,
            match: '^--context production (get clusters.postgresql.cnpg.io orders -n data |patch clusters.postgresql.cnpg.io orders |exec -n data orders-1 |delete clusters.postgresql.cnpg.io orders |apply --server-side)',
            responses: [],
            cnpg: { name: 'production', cluster: generatedPrimaryCluster(), settlePolls: p.settlePolls ?? 2, ...p.primaryCluster },
          },
        ]
      : []),
    { tool: 'aws', match: '^sts get-caller-identity --region ap-northeast-[12] ', responses: [{ stdout: { Arn: 'arn:aws:sts::111122223333:assumed-role/hakube-github-apply/gha' } }] },
    { tool: 'aws', match: '^route53 get-hosted-zone --id Z0HAKUBE ', responses: [{ stdout: { HostedZone: { Id: '/hostedzone/Z0HAKUBE', Name: 'hakube.example.com.', Config: { PrivateZone: false } } } }] },
    {
      tool: 'aws',
      match: '^route53 list-resource-record-sets',
      responses: [
        {
          stdout: {
            ResourceRecordSets: [
              {
                Name: 'app.hakube.example.com.',
                Type: 'A',
                SetIdentifier: 'production',
                Failover: 'PRIMARY',
                HealthCheckId: 'hc-production',
                AliasTarget: { HostedZoneId: PROD_NLB.zone, DNSName: `${PROD_NLB.dns}.`, EvaluateTargetHealth: true },
              },
              { Name: 'app.hakube.example.com.', Type: 'A', SetIdentifier: 'dr', Failover: 'SECONDARY', HealthCheckId: 'hc-dr', AliasTarget: { HostedZoneId: DR_NLB.zone, DNSName: `${DR_NLB.dns}.`, EvaluateTargetHealth: true } },
            ],
          },
        },
      ],
    },
    { tool: 'aws', match: 'get-health-check-status --health-check-id hc-production', responses: [health(p.primaryHealthy ?? false)] },
    { tool: 'aws', match: 'get-health-check-status --health-check-id hc-dr', responses: [health(true)] },
    { tool: 'aws', match: '^autoscaling describe-auto-scaling-groups', responses: p.asgResponses ?? [asgs(1, 1, 1), asgs(2, 2, 1), asgs(2, 2, 2)] },
    { tool: 'aws', match: '^autoscaling update-auto-scaling-group', responses: [{}] },
    { tool: 'aws', match: '^elbv2 describe-load-balancers --region ap-northeast-1 --names dr-ingress --query LoadBalancers\\[0\\]\\.\\[DNSName,CanonicalHostedZoneId\\]', responses: [{ stdout: [DR_NLB.dns, DR_NLB.zone] }] },
    { tool: 'aws', match: '^elbv2 describe-load-balancers --region ap-northeast-2 --names production-ingress --query LoadBalancers\\[0\\]\\.\\[DNSName,CanonicalHostedZoneId\\]', responses: [{ stdout: [PROD_NLB.dns, PROD_NLB.zone] }] },
    { tool: 'aws', match: '^elbv2 describe-load-balancers .* --query LoadBalancers\\[0\\]\\.DNSName --output text', responses: [{ stdout: `${p.ingress}\n` }] },
    { tool: 'aws', match: 'ELB net/dr-ingress/', responses: [{ stdout: DR_NLB_IPS }] },
    { tool: 'aws', match: 'ELB net/production-ingress/', responses: [{ stdout: PROD_NLB_IPS }] },
    { tool: 'aws', match: '^route53 test-dns-answer', responses: [{ stdout: { RecordData: p.dnsAnswer ?? DR_NLB_IPS.slice(0, 2), ResponseCode: 'NOERROR' } }] },
    { tool: 'aws', match: '^route53 update-health-check --health-check-id hc-(production|dr) ', responses: [{ stdout: {} }] },
    { tool: 'aws', match: '^route53 change-resource-record-sets --hosted-zone-id Z0HAKUBE ', responses: [{ stdout: { ChangeInfo: { Status: 'PENDING' } } }] },
    {
      tool: 'aws',
      match: '^ssm (get|put|delete)-parameter --region ap-northeast-1 --name /hakube/dr/failover/promoted',
      responses: [],
      ssm: { '/hakube/dr/failover/promoted': p.marker === undefined ? 'run r0: dr serves for production since 2026-01-01T11:00:00Z' : p.marker },
    },
    {
      tool: 'aws',
      match: '^cloudwatch (enable-alarm-actions|disable-alarm-actions|describe-alarms) ',
      responses: [],
      cloudwatch: { 'us-east-1': p.alarms ?? { 'production-app-health-check': { ActionsEnabled: true }, 'dr-app-health-check': { ActionsEnabled: false } } },
    },
    { tool: 'aws', match: '^route53 get-health-check --health-check-id hc-dr ', responses: [{ stdout: { HealthCheck: { Id: 'hc-dr', HealthCheckConfig: { Type: 'HTTP', ResourcePath: '/region-failover-not-promoted' } } } }] },
    {
      tool: 'aws',
      match: '^s3api (list-objects-v2|get-object) ',
      responses: [],
      s3: { [REPLICA_BUCKET]: p.replica ?? archive('orders', 30), [DR_BUCKET]: p.drBucket ?? [], [PRODUCTION_BUCKET]: p.productionBucket ?? [] },
      // The backup bucket's replication rule (aws-cluster): production's bucket into its replica in dr's region.
      s3Replication: [{ from: PRODUCTION_BUCKET, to: REPLICA_BUCKET, lagSeconds: p.replicationLagSeconds ?? 0 }],
    },
    { tool: 'kubectl', match: 'get --raw=/readyz', responses: [{ stdout: 'ok' }] },
    { tool: 'kubectl', match: 'get nodes -o json', responses: p.nodeResponses ?? [nodes(DR_ZONES, 1), nodes(DR_ZONES, 2)] },
    { tool: 'kubectl', match: '^--context production get clusters.postgresql.cnpg.io orders -n data --ignore-not-found -o json', responses: [p.primaryDatabase ?? { stdout: { metadata: { name: 'orders', annotations: {} } } }] },
    {
      tool: 'kubectl',
      match: '^--context dr (get clusters.postgresql.cnpg.io orders -n data -o json|patch clusters.postgresql.cnpg.io orders |exec -n data orders-1 |delete clusters.postgresql.cnpg.io orders -n data --ignore-not-found|apply --server-side)',
      responses: [],
      cnpg: { name: 'dr', cluster: p.standbyCluster ?? generatedStandbyCluster(), replayLsn: p.replayLsn ?? lsnIn('000000010000000000000014'), timeline: 1, settlePolls: p.settlePolls ?? 2, ...p.standbyModel },
    },
    { tool: 'kubectl', match: ' get backups.postgresql.cnpg.io/\\S+ -n data -o json', responses: p.backupPolls ?? [backupIn('running'), backupIn('completed')] },
    { tool: 'kubectl', match: 'get clusters.postgresql.cnpg.io orders -n data --ignore-not-found', responses: [{ stdout: 'cluster.postgresql.cnpg.io/orders\n' }] },
    { tool: 'kubectl', match: 'get kustomizations.kustomize.toolkit.fluxcd.io apps', responses: [{ stdout: 'kustomization.kustomize.toolkit.fluxcd.io/apps\n' }] },
    { tool: 'kubectl', match: '^--context \\S+ wait clusters', responses: [p.databaseWait ?? { stdout: 'cluster.postgresql.cnpg.io/orders condition met\n' }] },
    { tool: 'kubectl', match: ' get deployment (web -n web|orders-api -n data) -o json', responses: [{ stdout: { spec: { replicas: 1 } } }] },
    {
      tool: 'kubectl',
      match: '^--context production get backups.postgresql.cnpg.io -n data -l failover.platform.io/purpose=fenced -o json',
      responses: [p.fencedBackups ?? { stdout: { items: [{ metadata: { name: 'orders-fenced-r0' }, spec: { cluster: { name: 'orders' } }, status: { phase: 'completed', stoppedAt: '2026-01-01T12:00:00Z' } }] } }],
    },
    { tool: 'kubectl', match: ' (patch|delete|apply|scale|rollout|wait|annotate) ', responses: [{}] },
  ];
}
