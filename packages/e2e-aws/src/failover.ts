import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  assertNotPromoted,
  commandLine,
  Commands,
  failbackSteps,
  fenceSteps,
  FailbackPreflight,
  Journal,
  pairOutputs,
  parseOptions,
  pilotLightCapacity,
  promotionCapacity,
  promotionSteps,
  resolvePair,
  runSteps,
  standbyServes,
  toSecond,
  workersPerZone,
  workloadOf,
  type Call,
  type CapacityPlan,
  type FailoverOptions,
  type Step,
  type Workload,
} from '@platform/failover';
import { APP_HEALTH_CHECK_PATH, defaultPlatform, FENCED_HEALTH_CHECK_PATH, FAILOVER_FIELD_MANAGER, ORDERS_API, UNPROMOTED_HEALTH_CHECK_PATH, type ClusterDefinition, type Platform } from '@platform/platform-config';
import { awsCli } from './aws-cli';
import type { BootCheck } from './boot';
import { CNPG, HEALTHY } from './fake-kube/cnpg';
import { FLUX_KUSTOMIZATION } from './fake-kube/flux';
import { clearInProcessRoutes } from './fake-kube/ingress-app';
import type { Obj } from './fake-kube/patch';
import { FakeWorld } from './fake-kube/world';
import { NodeSync } from './node-sync';
import { WalMirror } from './wal-mirror';
import { runChild } from './terraform';

/**
 * Steps of `failover promote` / `fence` / `failback` NOT run, each with why. Everything else of
 * the three runs is the tool's own step lists (promotionSteps, fenceSteps, failbackSteps), run
 * by its own `runSteps` with the real AWS CLI against moto and the real kubectl against the
 * stateful fake Kubernetes APIs (src/fake-kube-api.ts, src/fake-kube/*).
 */
export const FAILOVER_NOT_RUN: readonly { readonly steps: string; readonly why: string }[] = [
  { steps: 'dns-report', why: 'moto 5.2.6 has no Route 53 TestDNSAnswer and no NLB network interfaces; the records are read back instead' },
];

/** Deviations forced by moto or by faking Kubernetes. */
export const FAILOVER_WORKAROUNDS: readonly { readonly what: string; readonly why: string }[] = [
  {
    what: 'the tool gets the platform with settings.dns.hostedZoneId = the id moto gave the zone',
    why: 'moto chooses hosted zone ids (not Z…, so replaced after platform-config validated the shipped one); the stacks get the same substitution',
  },
  {
    what: "the standby's worker ASGs get their MixedInstancesPolicy back (as described before the promotion) after fail-back",
    why: 'moto 5.2.6 UpdateAutoScalingGroup without MixedInstancesPolicy erases it (FakeAutoScalingGroup.update assigns the absent parameter, moto/autoscaling/models.py); AWS leaves it unchanged. Without this the drift phase sees every scaled ASG lose its instance types',
  },
  {
    what: "the app backup buckets' policy (TlsOnly: Deny s3:* unless aws:SecureTransport) is lifted before the first WAL object is put into a bucket and put back unchanged after they are removed (src/wal-mirror.ts)",
    why: 'moto 5.2.6 answers every object request to a bucket with that policy 403 (FakeBucket.get_permission in moto/s3/models.py evaluates it without request context; TrustCondition.verify_condition in moto/iam/policy_conditions.py counts the missing aws:SecureTransport as met), as in BOOT_WORKAROUNDS; barman-cloud uses HTTPS, where AWS allows it',
  },
  {
    what: 'promote runs with --force',
    why: 'moto answers GetHealthCheckStatus with one hard-coded Success observation (moto/route53/responses.py), so the primary always reads healthy; --force is the documented path for a primary whose check passes',
  },
  {
    what: "the clusters' CI kubeconfigs are put into SSM by the harness (SecureString, each cluster's region)",
    why: 'ci-kubeconfig.sh runs on a control-plane node after kubeadm init; here they point at the fake APIs',
  },
  {
    what: "each cluster's ingress NLB DNS name (moto's) resolves, inside the e2e process only, to a loopback address where a fake app answers on port 80",
    why: 'moto runs no load-balancer data plane; the fake app answers only while its Deployment has ready replicas and writes orders to the fake CloudNativePG database (src/fake-kube/ingress-app.ts)',
  },
  {
    what: "the pilot light is set up by the fakes: Flux applies clusters/<name>/ from the working tree, the primary's first base backup is a Backup the harness creates (what its ScheduledBackup with immediate: true does), an order is written through the primary's app before the outage",
    why: 'no CloudNativePG operator, Flux or ScheduledBackup controller runs; the replica cluster on the standby bootstraps from that base backup once replicated into the replica bucket',
  },
];

export interface FailoverPhaseOptions {
  readonly repoRoot: string;
  readonly workRoot: string;
  readonly env: NodeJS.ProcessEnv;
  /** The id moto gave the account-level zone (settings.dns.hostedZoneName); it replaces settings.dns.hostedZoneId for the tool, as in the stacks' copies. */
  readonly hostedZoneId: string;
  readonly standby: string;
  readonly logDir: string;
  readonly log: (line: string) => void;
}

export interface FailoverResult {
  readonly ok: boolean;
  readonly seconds: number;
  readonly promoteSteps: readonly string[];
  readonly fenceSteps: readonly string[];
  readonly failbackSteps: readonly string[];
  readonly checks: readonly BootCheck[];
  readonly kubeRequests: number;
  /** What kubectl asked the fake APIs, as `METHOD resource[/subresource]` with counts (names left out). */
  readonly kubeCalls: readonly string[];
}

interface Asg {
  AutoScalingGroupName: string;
  MinSize: number;
  DesiredCapacity: number;
}

const NOT_RUN = new Set(['dns-report']);

/**
 * `failover promote --standby <s> --force`, `fence --primary <p>` and `failback --primary <p>
 * --replace-database` (the default fail-back: a planned switchover with CloudNativePG's demotion
 * and promotion tokens) as the tool runs them, against moto and the fake Kubernetes world, and the
 * result read back from moto and from the fakes (not from the tool's journal).
 */
export async function runFailoverPhase(options: FailoverPhaseOptions): Promise<FailoverResult> {
  const t0 = performance.now();
  const { env, log } = options;
  // The shipped platform with the one account-level value the stacks' copies substitute too,
  // replaced after validation: moto's zone ids do not start with Z, which platform-config refuses.
  const shipped = defaultPlatform();
  const platform: Platform = { ...shipped, settings: { ...shipped.settings, dns: { ...shipped.settings.dns!, hostedZoneId: options.hostedZoneId } } };
  const checks: BootCheck[] = [];
  const check = (name: string, ok: boolean, detail: string) => {
    checks.push({ name, ok, detail });
    log(`  ${ok ? '✓' : '✗'} ${name}: ${detail}`);
  };
  const aws = awsCli(env, options.workRoot);
  const dir = join(options.workRoot, 'failover');
  mkdirSync(dir, { recursive: true });
  // The record steps write copies, never the repository's platform-config files.
  copyFileSync(join(options.repoRoot, 'packages/platform-config/src/failover-state.json'), join(dir, 'failover-state.json'));
  copyFileSync(join(options.repoRoot, 'packages/platform-config/src/database-archives.ts'), join(dir, 'database-archives.ts'));
  const optionsFor = (argv: string[]): FailoverOptions =>
    parseOptions(
      [...argv, '--out-dir', join(options.logDir, `failover-${argv[0]}`), '--state-file', join(dir, 'failover-state.json'), '--archives-file', join(dir, 'database-archives.ts'), '--poll-seconds', '1', '--asg-timeout', '60', '--db-timeout', '120', '--app-timeout', '90', '--probe-attempts', '10', '--nodes-timeout', '90', '--clusters-dir', join(options.repoRoot, 'clusters')],
      options.repoRoot,
    );
  const promote = optionsFor(['promote', '--standby', options.standby, '--force']);
  const pair = resolvePair(platform, promote);
  const { primary, standby } = pair;
  const workload = workloadOf(promote, primary);
  const standbyDatabase = workloadOf(promote, standby);
  const world = await FakeWorld.start({ repoRoot: options.repoRoot, platform, clusters: [standby, primary] });
  const db = (c: ClusterDefinition) => world.database(c.name, workload.namespace, workload.database);
  const rows = (c: ClusterDefinition) => world.get(c.name).cnpg.rows(workload.namespace, workload.database)?.map((r) => r.item) ?? [];
  // Nodes in the fake APIs follow the instances moto runs in each cluster's ASGs (nodes-ready reads them).
  const nodes = new NodeSync(aws, platform, world.clusters);
  // The fake archive's WAL objects go into moto's S3 as barman-cloud names them (archive-freshness lists them).
  const mirror = new WalMirror(aws, world.store, join(dir, 'wal-mirror'));
  try {
    await nodes.once();
    nodes.start();
    for (const c of world.clusters) log(`  nodes: ${c.cluster.name} registers ${c.api.all('v1', 'Node').length} Nodes from its ASGs' running instances in moto`);
    // The workflow's path to the APIs: kubeconfigs from SSM through scripts/fetch-kubeconfigs.sh.
    for (const c of world.clusters) {
      await aws('ssm', 'put-parameter', '--region', c.cluster.region, '--name', platform.namesOf(c.cluster).ssm.ciKubeconfig, '--type', 'SecureString', '--overwrite', '--value', c.api.kubeconfig());
    }
    const kubeEnv = async (action: FailoverOptions): Promise<NodeJS.ProcessEnv> => {
      const outputs = Object.fromEntries(pairOutputs(platform, action).trim().split('\n').map((l) => l.split('=') as [string, string]));
      const githubEnv = join(dir, `github-env-${action.action}`);
      writeFileSync(githubEnv, '');
      const script = join(options.repoRoot, 'packages/failover/scripts/fetch-kubeconfigs.sh');
      const r = await runChild('bash', [script], {
        cwd: dir,
        env: {
          ...env,
          ACTION: action.action,
          PRIMARY: outputs.primary,
          PRIMARY_REGION: outputs.primary_region,
          PRIMARY_PARAMETER: outputs.primary_kubeconfig_parameter,
          STANDBY: outputs.standby,
          STANDBY_REGION: outputs.standby_region,
          STANDBY_PARAMETER: outputs.standby_kubeconfig_parameter,
          RUNNER_TEMP: dir,
          GITHUB_ENV: githubEnv,
        },
      });
      if (r.code !== 0) throw new Error(`fetch-kubeconfigs.sh exited ${r.code}: ${r.stdout}${r.stderr}`);
      const kubeconfig = /^KUBECONFIG=(.*)$/m.exec(readFileSync(githubEnv, 'utf8'))?.[1];
      if (!kubeconfig) throw new Error(`fetch-kubeconfigs.sh wrote no KUBECONFIG to GITHUB_ENV`);
      return { ...env, KUBECONFIG: kubeconfig, KUBECACHEDIR: join(dir, 'kube-cache') };
    };

    // Each cluster's ingress NLB (moto's DNS name) → the fake app on a loopback address of its own.
    const octet = 16 + (process.pid % 200);
    const host = platform.names.appHostname!;
    for (const [c, i] of [[primary, 2], [standby, 3]] as const) await world.serveIngress(c.name, await nlbDnsName(aws, c, platform), `127.${octet}.0.${i}`, host, workload);
    const primaryApp = world.get(primary.name).ingress!;

    // The pilot light as Flux and CloudNativePG leave it: the primary serves and archives, the
    // standby's replica cluster replays the replicated archive.
    await FakeWorld.until(`${primary.name}'s ${workload.namespace}/${workload.database} healthy`, 60, () => world.healthy(primary.name, workload.namespace, workload.database));
    world.get(primary.name).api.create({ apiVersion: CNPG, kind: 'Backup', metadata: { name: `${workload.database}-e2e-first`, namespace: workload.namespace }, spec: { cluster: { name: workload.database }, method: 'barmanObjectStore' } }, 'e2e-scheduled-backup');
    const preOutage = `pre-outage-${promote.runId}`;
    const written = await order(`127.${octet}.0.2`, host, preOutage);
    check(`pilot light: ${primary.name}'s app takes an order before the outage`, written === 201, `POST ${ORDERS_API.path} → ${written}`);
    await FakeWorld.until(`${standby.name}'s replica to be healthy and replay the order`, 90, () => (rows(standby).includes(preOutage) && world.healthy(standby.name, workload.namespace, workload.database)) || undefined).catch(() => undefined);
    const standbyBefore = db(standby);
    check(
      `pilot light: ${standby.name}'s ${workload.namespace}/${workload.database} is a replica cluster replaying ${primary.name}'s replicated archive`,
      inTopology(standbyBefore, standby.name, primary.name) && (standbyBefore?.status as Obj | undefined)?.phase === HEALTHY && rows(standby).includes(preOutage),
      `replica ${JSON.stringify((standbyBefore?.spec as Obj | undefined)?.replica)}; phase ${String((standbyBefore?.status as Obj | undefined)?.phase)}; rows ${JSON.stringify(rows(standby))}`,
    );

    // The replica runs one segment behind: its replay is held while the primary takes one more order
    // and archive_timeout switches and archives that segment, so archive-freshness has one segment
    // pending to judge by its age (moto's LastModified), not only its caught-up branch.
    const replicaBucket = platform.namesOf(primary).appBackupReplicaBucket;
    world.get(standby.name).cnpg.holdReplay(standbyDatabase.namespace, standbyDatabase.database);
    const lastOrder = `last-before-outage-${promote.runId}`;
    const lastWritten = await order(`127.${octet}.0.2`, host, lastOrder);
    const pendingSegment = world.get(primary.name).cnpg.switchWal(workload.namespace, workload.database);
    const pendingObject = await FakeWorld.until(`${primary.name}'s segment ${pendingSegment} replicated into ${replicaBucket} and put into moto`, 30, () => mirror.put.find((o) => o.bucket === replicaBucket && o.key.includes(`/${pendingSegment}`)));
    check(
      `pilot light: ${standby.name}'s replica is one segment behind ${primary.name}'s archive (${pendingSegment} archived, not replayed)`,
      lastWritten === 201 && !rows(standby).includes(lastOrder),
      `POST ${ORDERS_API.path} → ${lastWritten}; s3://${pendingObject.bucket}/${pendingObject.key}; ${standby.name} rows ${JSON.stringify(rows(standby))}`,
    );

    // The outage: the primary's region stops answering.
    await primaryApp.down();
    const workerAsgs = pilotLightCapacity(standby, platform.namesOf(standby)).targets.map((t) => t.asg);
    const policiesBefore = await mixedInstancesPolicies(aws, standby, workerAsgs);
    const promoteEnv = await kubeEnv(promote);
    const promoteSteps = promotionSteps(workload, pair, standbyDatabase).filter((s) => !NOT_RUN.has(s.name));
    await mirror.flush();
    const replicaWal = mirror.put.filter((o) => o.bucket === replicaBucket).map((o) => `s3://${o.bucket}/${o.key}`);
    log(`  archive: ${mirror.put.length} WAL objects in moto's S3 before the promotion, in ${replicaBucket}: ${replicaWal.join(', ') || 'none'}`);
    const fluxBefore = world.get(standby.name).flux.reconciles.get('flux-system') ?? 0;
    const promoteLines: string[] = [];
    const { ok: promoted, calls: promoteCalls } = await run(platform, promote, promoteSteps, promoteEnv, (line) => (promoteLines.push(line), log(line)), 'promote', nodes);
    check('promote: the tool completes', promoted, promoteSteps.map((s) => s.name).join(', '));
    // Right after the run, before fail-back scales anything: what nodes-ready waited for, read back from the fake API.
    const wantPerZone = workersPerZone(promotionCapacity(primary, standby, platform.namesOf(standby)));
    const readyPerZone = readyWorkersPerZone(world.get(standby.name).api.all('v1', 'Node'));
    const nodesNote = stepText(promoteLines, 'nodes-ready');
    const listings = nodeListings(promoteCalls, 'nodes-ready');
    check(
      `promote: nodes-ready waited for ${standby.name}'s new workers (NotReady while their CNI comes up) until every zone had the promotion capacity Ready`,
      stepDone(promoteLines, 'nodes-ready') && nodesNote.includes('Ready workers per zone:') && !nodesNote.includes('WARNING') && listings > 1 && [...wantPerZone].every(([zone, n]) => readyPerZone.get(zone) === n) && readyPerZone.size === wantPerZone.size,
      `the step said: ${nodesNote || '(nothing)'}; it listed the Nodes ${listings}×; Ready workers now ${[...readyPerZone].map(([z, n]) => `${z} ${n}`).join(', ') || 'none'} (promotion capacity ${[...wantPerZone].map(([z, n]) => `${z} ${n}`).join(', ')})`,
    );
    const freshness = stepText(promoteLines, 'archive-freshness');
    check(
      `promote: archive-freshness judged the WAL objects in ${replicaBucket} (moto's S3, barman-cloud's keys)`,
      stepDone(promoteLines, 'archive-freshness') && replicaWal.length > 0 && mirror.errors.length === 0 && replicaWal.some((k) => freshness.includes(k.split('/').pop()!.replace(/\.gz$/, ''))),
      `${replicaWal.length} objects there; ${mirror.errors.length ? `put errors: ${mirror.errors.slice(0, 2).join('; ')}; ` : ''}the step said: ${freshness.slice(0, 600) || '(nothing)'}`,
    );

    const pendingModified = await lastModified(aws, standby.region, pendingObject.bucket, pendingObject.key);
    const pendingNote = pendingSegmentNote(freshness);
    check(
      `promote: archive-freshness found the one segment the replica had not replayed and judged its age by moto's LastModified`,
      pendingNote !== undefined && pendingNote.count === 1 && pendingNote.object === `s3://${pendingObject.bucket}/${pendingObject.key}` && pendingNote.written === pendingModified && pendingNote.within,
      `moto: s3://${pendingObject.bucket}/${pendingObject.key} LastModified ${pendingModified}; the step: ${pendingNote ? `${pendingNote.count} pending, newest ${pendingNote.object} written ${pendingNote.written} (${pendingNote.age} s ago)${pendingNote.within ? ', within the bound' : ''}` : `no pending-segment note: ${freshness.slice(0, 400)}`}`,
    );
    const cli = new Commands({ dryRun: false, env: promoteEnv });
    const records = await failoverRecords(aws, platform);
    const standbyNlb = await nlbDnsName(aws, standby, platform);
    const primaryNlb = await nlbDnsName(aws, primary, platform);
    check('promote: the PRIMARY record aliases the standby NLB', records.primary?.AliasTarget?.DNSName?.replace(/\.$/, '').toLowerCase() === standbyNlb.toLowerCase(), `PRIMARY → ${records.primary?.AliasTarget?.DNSName ?? '(none)'}; ${standby.name} NLB ${standbyNlb}`);
    check('promote: the SECONDARY record still aliases the standby NLB', records.secondary?.AliasTarget?.DNSName?.replace(/\.$/, '').toLowerCase() === standbyNlb.toLowerCase(), `SECONDARY → ${records.secondary?.AliasTarget?.DNSName ?? '(none)'}`);
    const primaryPath = await healthCheckPath(aws, records.primary?.HealthCheckId);
    const secondaryPath = await healthCheckPath(aws, records.secondary?.HealthCheckId);
    check('promote: the PRIMARY health check is fenced', primaryPath === FENCED_HEALTH_CHECK_PATH, `${records.primary?.HealthCheckId}: ${primaryPath}`);
    check('promote: the SECONDARY health check probes the app', secondaryPath === APP_HEALTH_CHECK_PATH, `${records.secondary?.HealthCheckId}: ${secondaryPath}`);
    await checkAsgs(aws, standby, promotionCapacity(primary, standby, platform.namesOf(standby)), 'promote: standby workers at the primary minimum', check);
    const marker = await readMarker(aws, platform, standby);
    check('promote: the promoted marker says serves', marker !== undefined && standbyServes(marker), `${platform.namesOf(standby).ssm.promotedMarker} = ${marker ?? '(absent)'}`);
    for (const c of [standby, primary]) {
      const refused = await assertNotPromoted(platform, c, cli).then(() => undefined, (e: Error) => e.message);
      check(`promote: the apply guard refuses ${platform.namesOf(c).stack}`, refused !== undefined, refused ?? 'applied would be allowed');
    }
    const promotedDb = db(standby);
    const promotedSpec = (promotedDb?.spec ?? {}) as { replica?: { enabled?: boolean; self?: string; primary?: string }; backup?: { barmanObjectStore?: { serverName?: string } } };
    const promotedServer = `${workload.database}-${promote.runId}`;
    check(
      `promote: ${standby.name}'s database is promoted (CloudNativePG distributed topology: replica.primary = replica.self = ${standby.name}; healthy, writable, new timeline)`,
      inTopology(promotedDb, standby.name, standby.name) && (promotedDb?.status as Obj | undefined)?.phase === HEALTHY && Number((promotedDb?.status as Obj | undefined)?.timelineID) >= 2 && world.get(standby.name).cnpg.insert(workload.namespace, workload.database, { item: `probe-${promote.runId}` }) === undefined,
      `replica ${JSON.stringify(promotedSpec.replica)}, phase ${String((promotedDb?.status as Obj | undefined)?.phase)}, timeline ${String((promotedDb?.status as Obj | undefined)?.timelineID)}`,
    );
    check(`promote: ${standby.name} archives under a new server name with a base backup there`, promotedSpec.backup?.barmanObjectStore?.serverName === promotedServer && (world.store.read(`${serverFolder(promotedDb)}`)?.backups.length ?? 0) > 0, `serverName ${String(promotedSpec.backup?.barmanObjectStore?.serverName)}; folder ${serverFolder(promotedDb)}`);
    const promoteOrder = `failover-check-${promote.runId}-promote`;
    check(
      `promote: ${standby.name}'s database holds the orders written before the outage (the last one replayed from the pending segment at promotion) and verify-app's order`,
      [preOutage, lastOrder, promoteOrder].every((o) => rows(standby).includes(o)),
      JSON.stringify(rows(standby)),
    );
    const duringService = `during-service-${promote.runId}`;
    const servedOrder = await order(`127.${octet}.0.3`, host, duringService);
    check(`promote: ${standby.name}'s app takes an order while it serves`, servedOrder === 201 && rows(standby).includes(duringService), `POST ${ORDERS_API.path} → ${servedOrder}`);
    check(`promote: ${standby.name}'s apps run one replica per AZ, ready`, appsAtLeast(world, standby, workload, standby.availabilityZones.length), appsText(world, standby, workload));
    await FakeWorld.until('a Flux sync of flux-system after the promotion', 30, () => (world.get(standby.name).flux.reconciles.get('flux-system') ?? 0) > fluxBefore + 1);
    check(`promote: ${standby.name}'s Flux apps stays suspended through Flux's own syncs (field manager ${FAILOVER_FIELD_MANAGER})`, suspended(world, standby, promote.fluxKustomization) === true, managersText(world, standby, promote.fluxKustomization));

    // The region is back: the returned primary still runs its stale database and its apps.
    await primaryApp.up();
    const failback = optionsFor(['failback', '--primary', primary.name, '--replace-database']);
    const failbackEnv = await kubeEnv(failback);
    const refusedOutput: string[] = [];
    const refused = !(await run(platform, failback, [new FailbackPreflight(workload)], failbackEnv, (line) => refusedOutput.push(line), 'failback-unfenced')).ok;
    const reason = refusedOutput.find((l) => l.includes('FAILED at step')) ?? '(it passed)';
    check(`failback: refused while ${primary.name}'s database has no fenced backup newer than the promotion`, refused && /no fenced backup completed after/.test(reason), reason.trim());

    const fence = optionsFor(['fence', '--primary', primary.name]);
    const fenceEnv = await kubeEnv(fence);
    const fenceList = fenceSteps(workload, pair, standbyDatabase);
    const { ok: fenced } = await run(platform, fence, fenceList, fenceEnv, log, 'fence', nodes);
    check('fence: the tool completes', fenced, fenceList.map((s) => s.name).join(', '));
    // CloudNativePG acts on the annotation at its next reconcile.
    await FakeWorld.until(`${primary.name}'s instances to stop`, 20, () => world.get(primary.name).api.all('v1', 'Pod', workload.namespace).length === 0 || undefined).catch(() => undefined);
    const hibernated = ((db(primary)?.metadata as Obj | undefined)?.annotations as Record<string, string> | undefined)?.['cnpg.io/hibernation'];
    const fencedBackups = world.get(primary.name).api.all(CNPG, 'Backup', workload.namespace).filter((b) => ((b.metadata as Obj).labels as Record<string, string> | undefined)?.['failover.platform.io/purpose'] === 'fenced');
    check(
      `fence: ${primary.name}'s apps at 0, a fenced Backup completed, its database hibernated (no instance left)`,
      appsExactly(world, primary, workload, 0) && fencedBackups.some((b) => (b.status as Obj | undefined)?.phase === 'completed') && hibernated === 'on' && world.get(primary.name).api.all('v1', 'Pod', workload.namespace).length === 0,
      `${appsText(world, primary, workload)}; fenced backups ${fencedBackups.map((b) => `${String((b.metadata as Obj).name)} ${String((b.status as Obj | undefined)?.phase)}`).join(', ') || 'none'}; hibernation ${String(hibernated)}`,
    );

    const standbyUid = (db(standby)?.metadata as Obj | undefined)?.uid;
    const deletesBefore = new Map(world.clusters.map((c) => [c.cluster.name, clusterDeletes(c.api.requests)]));
    const failbackList = failbackSteps(workload, pair, standbyDatabase, failback).filter((s) => !NOT_RUN.has(s.name));
    const failbackLines: string[] = [];
    const { ok: failedBack } = await run(platform, failback, failbackList, failbackEnv, (line) => (failbackLines.push(line), log(line)), 'failback', nodes);
    check('failback: the tool completes', failedBack, failbackList.map((s) => s.name).join(', '));
    const after = await failoverRecords(aws, platform);
    check('failback: the PRIMARY record aliases the primary NLB, target health evaluated', after.primary?.AliasTarget?.DNSName?.replace(/\.$/, '').toLowerCase() === primaryNlb.toLowerCase() && after.primary?.AliasTarget?.EvaluateTargetHealth === true, `PRIMARY → ${after.primary?.AliasTarget?.DNSName ?? '(none)'} (evaluate ${after.primary?.AliasTarget?.EvaluateTargetHealth}); ${primary.name} NLB ${primaryNlb}`);
    const primaryPathAfter = await healthCheckPath(aws, after.primary?.HealthCheckId);
    const secondaryPathAfter = await healthCheckPath(aws, after.secondary?.HealthCheckId);
    check('failback: the PRIMARY health check probes the app', primaryPathAfter === APP_HEALTH_CHECK_PATH, `${after.primary?.HealthCheckId}: ${primaryPathAfter}`);
    check('failback: the SECONDARY health check is closed', secondaryPathAfter === UNPROMOTED_HEALTH_CHECK_PATH, `${after.secondary?.HealthCheckId}: ${secondaryPathAfter}`);
    await checkAsgs(aws, standby, pilotLightCapacity(standby, platform.namesOf(standby)), 'failback: standby workers back at pilot light', check);
    const markerAfter = await readMarker(aws, platform, standby);
    check('failback: the promoted marker is gone', markerAfter === undefined, markerAfter ?? `${platform.namesOf(standby).ssm.promotedMarker} absent`);
    for (const c of [standby, primary]) {
      const refusedGuard = await assertNotPromoted(platform, c, new Commands({ dryRun: false, env: failbackEnv })).then(() => undefined, (e: Error) => e.message);
      check(`failback: the apply guard allows ${platform.namesOf(c).stack}`, refusedGuard === undefined, refusedGuard ?? 'allowed');
    }
    const failbackOrder = `failover-check-${failback.runId}-failback`;
    const promotedPrimary = db(primary);
    const demoted = db(standby);
    const token = String((demoted?.status as Obj | undefined)?.demotionToken ?? '');
    const tokenFields = token ? (JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as Record<string, string>) : {};
    const position = world.get(primary.name).cnpg.position(workload.namespace, workload.database);
    const primaryReplica = ((promotedPrimary?.spec as Obj | undefined)?.replica ?? {}) as { self?: string; primary?: string; source?: string; enabled?: boolean };
    check(
      `failback: ${primary.name}'s database is promoted with ${standby.name}'s demotion token, at its REDO location, on the next timeline (replica.self/primary ${primary.name}, source ${standby.name})`,
      token !== '' &&
        (promotedPrimary?.status as Obj | undefined)?.lastPromotionToken === token &&
        inTopology(promotedPrimary, primary.name, primary.name) && primaryReplica.source === standby.name &&
        position !== undefined && position.systemId === tokenFields.databaseSystemIdentifier && position.replayedTo !== undefined && lsnBytes(position.replayedTo) >= lsnBytes(tokenFields.latestCheckpointREDOLocation ?? 'FFFFFFFF/FFFFFFFF') && position.timeline === Number(tokenFields.latestCheckpointTimelineID) + 1 &&
        (promotedPrimary?.status as Obj | undefined)?.phase === HEALTHY && world.get(primary.name).cnpg.insert(workload.namespace, workload.database, { item: `probe-${failback.runId}` }) === undefined,
      `token REDO ${tokenFields.latestCheckpointREDOLocation ?? '(none)'} timeline ${tokenFields.latestCheckpointTimelineID ?? '?'}; lastPromotionToken ${(promotedPrimary?.status as Obj | undefined)?.lastPromotionToken === token ? 'is the token' : 'differs'}; recovery ended at ${String(position?.replayedTo)}, timeline ${String(position?.timeline)}; replica ${JSON.stringify(primaryReplica)}; phase ${String((promotedPrimary?.status as Obj | undefined)?.phase)}`,
    );
    check(
      `failback: ${primary.name}'s database holds every order: before the outage, while ${standby.name} served (the app's and verify-app's), after the switchover`,
      [preOutage, duringService, promoteOrder, failbackOrder].every((o) => rows(primary).includes(o)),
      JSON.stringify(rows(primary)),
    );
    const demotedSpec = (demoted?.spec ?? {}) as { replica?: { self?: string; primary?: string; source?: string; enabled?: boolean }; externalClusters?: { name: string; barmanObjectStore?: { serverName?: string; destinationPath?: string } }[] };
    const follows = demotedSpec.externalClusters?.find((e) => e.name === demotedSpec.replica?.source)?.barmanObjectStore?.serverName;
    const primaryServer = ((promotedPrimary?.spec as Obj | undefined)?.backup as { barmanObjectStore?: { serverName?: string } } | undefined)?.barmanObjectStore?.serverName;
    const topology = (spec: { externalClusters?: { name: string }[] } | undefined) => (spec?.externalClusters ?? []).map((e) => e.name).sort().join(',');
    const both = [primary.name, standby.name].sort().join(',');
    check(
      `failback: ${standby.name}'s database (the same Cluster, demoted) is a replica of ${primary.name}'s archive ${workload.database}-${failback.runId}, both clusters in each externalClusters`,
      (demoted?.metadata as Obj | undefined)?.uid === standbyUid &&
        inTopology(demoted, standby.name, primary.name) && demotedSpec.replica?.source === primary.name &&
        follows === `${workload.database}-${failback.runId}` && primaryServer === follows &&
        topology(demotedSpec) === both && topology(promotedPrimary?.spec as { externalClusters?: { name: string }[] }) === both &&
        (demoted?.status as Obj | undefined)?.phase === HEALTHY && rows(standby).includes(failbackOrder),
      `uid ${(demoted?.metadata as Obj | undefined)?.uid === standbyUid ? 'unchanged' : 'changed'}; replica ${JSON.stringify(demotedSpec.replica)}; follows ${String(follows)} (${primary.name} archives under ${String(primaryServer)}); externalClusters ${topology(demotedSpec)} / ${topology(promotedPrimary?.spec as { externalClusters?: { name: string }[] })}; phase ${String((demoted?.status as Obj | undefined)?.phase)}; rows ${JSON.stringify(rows(standby))}`,
    );
    const deleted = world.clusters.map((c) => ({ name: c.cluster.name, n: clusterDeletes(c.api.requests) - (deletesBefore.get(c.cluster.name) ?? 0) }));
    check(
      `failback: the switchover deleted nothing but ${primary.name}'s fenced, diverged database (no Cluster deleted on ${standby.name})`,
      deleted.find((d) => d.name === standby.name)?.n === 0 && (deleted.find((d) => d.name === primary.name)?.n ?? 0) <= 1,
      deleted.map((d) => `${d.name}: ${d.n} Cluster DELETE`).join('; '),
    );
    check(`failback: ${primary.name}'s apps serve again, ${standby.name}'s are at 0`, appsAtLeast(world, primary, workload, primary.availabilityZones.length) && appsExactly(world, standby, workload, 0), `${appsText(world, primary, workload)}; ${appsText(world, standby, workload)}`);
    check(
      `failback: Flux apps stays suspended on both until Git names the new archive (the tool prints the resume commands)`,
      suspended(world, primary, failback.fluxKustomization) === true && suspended(world, standby, failback.fluxKustomization) === true,
      `${primary.name}: ${managersText(world, primary, failback.fluxKustomization)}; ${standby.name}: ${managersText(world, standby, failback.fluxKustomization)}`,
    );
    // moto's artefact, repaired so the drift phase judges what the tool left, not what moto lost.
    for (const [asg, policy] of policiesBefore) {
      if (policy !== undefined) await aws('autoscaling', 'update-auto-scaling-group', '--region', standby.region, '--auto-scaling-group-name', asg, '--mixed-instances-policy', JSON.stringify(asRequest(policy)));
    }
    const policiesAfter = await mixedInstancesPolicies(aws, standby, workerAsgs);
    check("failback: the standby's worker ASGs keep their mixed instances policy (restored after moto's artefact)", [...policiesBefore].every(([asg, p]) => JSON.stringify(p) === JSON.stringify(policiesAfter.get(asg))), `${policiesBefore.size} ASGs compared`);
    await nodes.once();
    const standbyWorkers = world.get(standby.name).api.all('v1', 'Node').filter((n) => !('node-role.kubernetes.io/control-plane' in (((n.metadata as Obj).labels ?? {}) as Record<string, string>)));
    check(
      `nodes-ready ran on both sides against Nodes made from moto's ASG instances (named by private DNS name, zone from the instance's AZ)`,
      stepDone(failbackLines, 'primary-nodes-ready') && !stepText(failbackLines, 'primary-nodes-ready').includes('WARNING') && nodes.errors.length === 0 && (nodes.changes.get(standby.name)?.readied ?? 0) > 0,
      `promote's nodes-ready ${stepDone(promoteLines, 'nodes-ready') ? 'done' : 'not done'}, failback's primary-nodes-ready ${stepDone(failbackLines, 'primary-nodes-ready') ? 'done' : 'not done'}; ${[...nodes.changes].map(([c, n]) => `${c}: ${n.added} Nodes added (${n.readied} NotReady first), ${n.removed} removed`).join('; ')}; ${standby.name} worker Nodes now ${standbyWorkers.length}${nodes.errors.length ? `; sync errors: ${nodes.errors.slice(0, 3).join('; ')}` : ''}`,
    );
    // A versioned bucket holding objects does not destroy: every WAL object put is removed again,
    // with the store's listener detached first so nothing archived meanwhile escapes the removal.
    await nodes.stop();
    const restored = await mirror.removeAll();
    check(
      `the app backup buckets' policies are restored byte-equal after the WAL objects are removed (lifted for moto's TlsOnly artefact)`,
      restored.length > 0 && restored.every((r) => r.equal) && mirror.errors.length === 0,
      restored.map((r) => `${r.bucket}: ${r.equal ? 'equal' : 'DIFFERS'}`).join('; ') || 'no policy was lifted',
    );
    const errors = world.clusters.flatMap((c) => c.api.requests.filter((r) => r.startsWith('CONTROLLER-ERROR')));
    check('the fake controllers reconciled without error', errors.length === 0, errors.slice(0, 3).join('; ') || 'none');
    return {
      ok: checks.every((c) => c.ok),
      seconds: (performance.now() - t0) / 1000,
      promoteSteps: promoteSteps.map((s) => s.name),
      fenceSteps: fenceList.map((s) => s.name),
      failbackSteps: failbackList.map((s) => s.name),
      checks,
      kubeRequests: world.clusters.reduce((n, c) => n + c.api.requests.length, 0),
      kubeCalls: kubeCalls(world.clusters.flatMap((c) => c.api.requests)),
    };
  } finally {
    await nodes.stop();
    // On a failure before the check above: still remove what was put, so destroy can go on.
    if (!mirror.removed) await mirror.removeAll().catch((error: Error) => log(`  archive: removing the WAL objects from moto failed: ${error.message.split('\n')[0]}`));
    for (const c of world.clusters) writeFileSync(join(options.logDir, `fake-kube-${c.cluster.name}-requests.log`), c.api.requests.join('\n'));
    await world.stop();
    clearInProcessRoutes();
  }
}

/** Whether the tool's output shows `step` finished: its heading, then `done in` before the next step's heading or a failure. */
export function stepDone(lines: readonly string[], step: string): boolean {
  const from = lines.findIndex((l) => l.includes(`] ${step}: `) && /\[\d+\/\d+\] /.test(l));
  if (from < 0) return false;
  for (const l of lines.slice(from + 1)) {
    if (/\[\d+\/\d+\] [a-z-]+: /.test(l) || l.includes('FAILED at step')) return false;
    if (/done in [\d.]+ s/.test(l)) return true;
  }
  return false;
}

/** archive-freshness's note on segments the replica had not replayed yet: how many, the newest object, when it was written, its age, whether within the bound. */
export function pendingSegmentNote(text: string): { count: number; object: string; written: string; age: number; within: boolean } | undefined {
  const m = /; (\d+) newer segment\(s\) archived, the newest (s3:\/\/\S+) written (\S+) \((-?\d+) s ago\)(: within)?/.exec(text);
  return m ? { count: Number(m[1]), object: m[2]!, written: m[3]!, age: Number(m[4]), within: m[5] !== undefined } : undefined;
}

/** An object's LastModified as moto reports it (HeadObject), to the second in UTC. */
async function lastModified(aws: ReturnType<typeof awsCli>, region: string, bucket: string, key: string): Promise<string> {
  const head = JSON.parse(await aws('s3api', 'head-object', '--region', region, '--bucket', bucket, '--key', key, '--output', 'json')) as { LastModified: string };
  return toSecond(new Date(head.LastModified));
}

/** A step's own lines (its notes), trimmed and joined: from its heading to the next step's heading. */
export function stepText(lines: readonly string[], step: string): string {
  const from = lines.findIndex((l) => l.includes(`] ${step}: `) && /\[\d+\/\d+\] /.test(l));
  if (from < 0) return '';
  const to = lines.findIndex((l, i) => i > from && /\[\d+\/\d+\] [a-z-]+: /.test(l));
  return lines.slice(from + 1, to < 0 ? undefined : to).map((l) => l.trim().replace(/^\[[a-z-]+\]\s*/, '')).join(' ');
}

/** Ready worker Nodes (no control-plane label) per `topology.kubernetes.io/zone`. */
export function readyWorkersPerZone(nodes: readonly Obj[]): Map<string, number> {
  const ready = new Map<string, number>();
  for (const n of nodes) {
    const labels = ((n.metadata as Obj).labels ?? {}) as Record<string, string>;
    const conditions = ((n.status as Obj | undefined)?.conditions ?? []) as { type: string; status: string }[];
    if ('node-role.kubernetes.io/control-plane' in labels || !conditions.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
    const zone = labels['topology.kubernetes.io/zone'] ?? '(no zone label)';
    ready.set(zone, (ready.get(zone) ?? 0) + 1);
  }
  return ready;
}

/** POST one order through a cluster's fake ingress, as a client with the public host name. */
async function order(address: string, host: string, item: string): Promise<number> {
  const { request } = await import('node:http');
  return new Promise((resolve) => {
    const req = request({ host: address, port: 80, path: ORDERS_API.path, method: 'POST', headers: { host, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end(JSON.stringify({ item }));
  });
}

function serverFolder(cluster: Obj | undefined): string {
  const store = (((cluster?.spec as Obj | undefined)?.backup as Obj | undefined)?.barmanObjectStore ?? {}) as { destinationPath?: string; serverName?: string };
  return `${(store.destinationPath ?? '').replace(/\/+$/, '')}/${store.serverName ?? String((cluster?.metadata as Obj | undefined)?.name)}`;
}

function deployments(world: FakeWorld, c: ClusterDefinition, workload: Workload): Obj[] {
  return workload.apps.map((a) => world.get(c.name).api.read({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: a.namespace, name: a.name }) ?? { metadata: { name: a.name } });
}

const appsAtLeast = (world: FakeWorld, c: ClusterDefinition, workload: Workload, n: number) =>
  deployments(world, c, workload).every((d) => Number((d.spec as Obj | undefined)?.replicas ?? 0) >= n && Number((d.status as Obj | undefined)?.readyReplicas ?? 0) >= n);
const appsExactly = (world: FakeWorld, c: ClusterDefinition, workload: Workload, n: number) => deployments(world, c, workload).every((d) => Number((d.spec as Obj | undefined)?.replicas ?? -1) === n);
const appsText = (world: FakeWorld, c: ClusterDefinition, workload: Workload) =>
  `${c.name}: ${deployments(world, c, workload).map((d) => `${String((d.metadata as Obj).namespace)}/${String((d.metadata as Obj).name)} ${String((d.spec as Obj | undefined)?.replicas)} (${String((d.status as Obj | undefined)?.readyReplicas ?? 0)} ready)`).join(', ')}`;

function suspended(world: FakeWorld, c: ClusterDefinition, name: string): boolean | undefined {
  return ((world.get(c.name).api.read({ apiVersion: FLUX_KUSTOMIZATION, kind: 'Kustomization', namespace: 'flux-system', name })?.spec ?? {}) as Obj).suspend as boolean | undefined;
}

function managersText(world: FakeWorld, c: ClusterDefinition, name: string): string {
  const ref = { apiVersion: FLUX_KUSTOMIZATION, kind: 'Kustomization', namespace: 'flux-system', name };
  const owner = world.get(c.name).api.managers(ref).find((m) => m.fields.includes('spec.suspend'));
  return `spec.suspend ${String(suspended(world, c, name))} owned by ${owner ? `${owner.manager} (${owner.operation})` : 'nobody'}; flux-system synced ${world.get(c.name).flux.reconciles.get('flux-system') ?? 0}×`;
}

/** A Cluster in CloudNativePG's distributed topology as `self`, following `primary` (itself: it serves); never the standalone `enabled` form. */
function inTopology(cluster: Obj | undefined, self: string, primary: string): boolean {
  const replica = ((cluster?.spec as Obj | undefined)?.replica ?? {}) as { enabled?: boolean; self?: string; primary?: string };
  return replica.enabled === undefined && replica.self === self && replica.primary === primary;
}

/** An LSN (`X/Y`, hex) as a byte position. */
const lsnBytes = (lsn: string) => lsn.split('/').reduce((n, part) => (n << 32n) + BigInt(`0x${part || '0'}`), 0n);

/** CloudNativePG Cluster deletions among a fake API's requests. */
const clusterDeletes = (requests: readonly string[]) => requests.filter((r) => /^DELETE \/apis\/postgresql\.cnpg\.io\/v1\/namespaces\/[^/]+\/clusters\//.test(r)).length;

/** kubectl's requests as `METHOD /resource[/subresource]` with counts: the verbs the tool uses. */
function kubeCalls(requests: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const r of requests) {
    const m = /^(\w+) \/(?:api\/v1|apis\/([^/]+)\/[^/]+)(?:\/namespaces\/[^/]+)?\/([a-z]+)(?:\/[^/?]+(?:\/([a-z]+))?)?(\?[^ ]*)?/.exec(r);
    if (!m) continue;
    const [, method, group, plural, sub, query = ''] = m;
    const kind = `${plural}${group ? `.${group}` : ''}${sub ? `/${sub}` : ''}`;
    const flavour = /watch=(true|1)/.test(query) ? ' (watch)' : r.endsWith('(upgrade)') ? ' (websocket)' : '';
    const key = `${method} ${kind}${flavour}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort().map(([k, n]) => `${k} ×${n}`);
}

/** The tool's journal, also keeping every call (reads too) per step: what the harness asserts a step asked. */
class CallJournal extends Journal {
  readonly calls = new Map<string, string[]>();
  private step: string | undefined;

  override begin(step: string): void {
    this.step = step;
    super.begin(step);
  }

  override recordCall(call: Call): void {
    super.recordCall(call);
    if (this.step) this.calls.set(this.step, [...(this.calls.get(this.step) ?? []), commandLine(call)]);
  }
}

/** How many times a step listed the Nodes (`kubectl … get nodes`), from the calls the journal kept. */
export function nodeListings(calls: ReadonlyMap<string, readonly string[]>, step: string): number {
  return (calls.get(step) ?? []).filter((c) => /^kubectl .*\bget nodes\b/.test(c)).length;
}

/** The tool's own step runner and Commands (real `aws`, `kubectl` from PATH), journal in the log dir. */
async function run(platform: Platform, options: FailoverOptions, steps: Step[], env: NodeJS.ProcessEnv, log: (line: string) => void, label: string, nodes?: NodeSync): Promise<{ ok: boolean; calls: ReadonlyMap<string, readonly string[]> }> {
  const pair = resolvePair(platform, options);
  const journal = new CallJournal(`e2e ${label}`, steps, false);
  mkdirSync(options.outDir, { recursive: true });
  const onCall = (call: Call) => {
    journal.recordCall(call);
    // moto launches and terminates at once; the Nodes follow at the next sync, not a timer tick later.
    if (call.tool === 'aws' && call.args[0] === 'autoscaling' && call.mutating) nodes?.kick();
  };
  const cli = new Commands({ dryRun: false, env, timeoutMs: 120_000, onCall });
  const ok = await runSteps(
    steps,
    { platform, ...pair, options, cli, facts: {}, namesOf: (c: ClusterDefinition) => platform.namesOf(c), sleep: (s: number) => new Promise((r) => setTimeout(r, s * 1000)), now: () => performance.now() / 1000, clock: () => new Date() },
    journal,
    (line) => log(`  [${label}] ${line}`),
  );
  writeFileSync(join(options.outDir, 'journal.json'), journal.toJson());
  writeFileSync(join(options.outDir, 'summary.md'), journal.toMarkdown());
  writeFileSync(join(options.outDir, 'calls.json'), `${JSON.stringify(Object.fromEntries(journal.calls), null, 2)}\n`);
  return { ok, calls: journal.calls };
}

interface RecordSet {
  Name: string;
  Type: string;
  Failover?: string;
  HealthCheckId?: string;
  AliasTarget?: { DNSName?: string; EvaluateTargetHealth?: boolean };
}

async function failoverRecords(aws: ReturnType<typeof awsCli>, platform: Platform): Promise<{ primary?: RecordSet; secondary?: RecordSet }> {
  const zones = JSON.parse(await aws('route53', 'list-hosted-zones-by-name', '--dns-name', platform.settings.dns!.hostedZoneName, '--output', 'json')) as { HostedZones: { Id: string; Name: string }[] };
  const zone = zones.HostedZones.find((z) => z.Name === `${platform.settings.dns!.hostedZoneName}.`);
  if (!zone) throw new Error(`hosted zone ${platform.settings.dns!.hostedZoneName} not in moto`);
  const sets = JSON.parse(await aws('route53', 'list-resource-record-sets', '--hosted-zone-id', zone.Id, '--output', 'json')) as { ResourceRecordSets: RecordSet[] };
  const ours = sets.ResourceRecordSets.filter((r) => r.Name === `${platform.names.appHostname}.` && r.Type === 'A');
  return { primary: ours.find((r) => r.Failover === 'PRIMARY'), secondary: ours.find((r) => r.Failover === 'SECONDARY') };
}

async function nlbDnsName(aws: ReturnType<typeof awsCli>, cluster: ClusterDefinition, platform: Platform): Promise<string> {
  const out = JSON.parse(await aws('elbv2', 'describe-load-balancers', '--region', cluster.region, '--names', platform.namesOf(cluster).ingressLoadBalancer, '--output', 'json')) as { LoadBalancers: { DNSName: string }[] };
  return out.LoadBalancers[0]!.DNSName;
}

async function healthCheckPath(aws: ReturnType<typeof awsCli>, id: string | undefined): Promise<string | undefined> {
  if (!id) return undefined;
  const out = JSON.parse(await aws('route53', 'get-health-check', '--health-check-id', id, '--output', 'json')) as { HealthCheck: { HealthCheckConfig: { ResourcePath?: string } } };
  return out.HealthCheck.HealthCheckConfig.ResourcePath;
}

async function readMarker(aws: ReturnType<typeof awsCli>, platform: Platform, standby: ClusterDefinition): Promise<string | undefined> {
  try {
    return (await aws('ssm', 'get-parameter', '--region', standby.region, '--name', platform.namesOf(standby).ssm.promotedMarker, '--query', 'Parameter.Value', '--output', 'text')).trim();
  } catch (error) {
    if (/ParameterNotFound/.test((error as Error).message)) return undefined;
    throw error;
  }
}

async function checkAsgs(aws: ReturnType<typeof awsCli>, standby: ClusterDefinition, plan: CapacityPlan, name: string, check: (name: string, ok: boolean, detail: string) => void): Promise<void> {
  const out = JSON.parse(await aws('autoscaling', 'describe-auto-scaling-groups', '--region', standby.region, '--auto-scaling-group-names', ...plan.targets.map((t) => t.asg), '--output', 'json')) as { AutoScalingGroups: Asg[] };
  const seen = plan.targets.map((t) => {
    const g = out.AutoScalingGroups.find((a) => a.AutoScalingGroupName === t.asg);
    return { t, ok: g?.MinSize === t.size && g.DesiredCapacity === t.size, text: `${t.asg} min ${g?.MinSize ?? '?'} desired ${g?.DesiredCapacity ?? '?'} (want ${t.size})` };
  });
  check(name, seen.length > 0 && seen.every((s) => s.ok), seen.map((s) => s.text).join('; '));
}

async function mixedInstancesPolicies(aws: ReturnType<typeof awsCli>, cluster: ClusterDefinition, asgs: readonly string[]): Promise<Map<string, unknown>> {
  const out = JSON.parse(await aws('autoscaling', 'describe-auto-scaling-groups', '--region', cluster.region, '--auto-scaling-group-names', ...asgs, '--output', 'json')) as { AutoScalingGroups: { AutoScalingGroupName: string; MixedInstancesPolicy?: unknown }[] };
  return new Map(out.AutoScalingGroups.map((g) => [g.AutoScalingGroupName, g.MixedInstancesPolicy]));
}

/** A described MixedInstancesPolicy as a request takes it: the launch template by id or by name, not both (AWS and moto refuse both; Terraform sends the id). */
function asRequest(policy: unknown): unknown {
  const p = policy as { LaunchTemplate?: { LaunchTemplateSpecification?: Record<string, unknown> } };
  const spec = p.LaunchTemplate?.LaunchTemplateSpecification;
  if (!spec?.LaunchTemplateId) return policy;
  const { LaunchTemplateName: _name, ...byId } = spec;
  return { ...p, LaunchTemplate: { ...p.LaunchTemplate, LaunchTemplateSpecification: byId } };
}
