import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  assertNotPromoted,
  BACKUP_PURPOSE_LABEL,
  ClearPromotedMarker,
  CloseStandby,
  Commands,
  FailbackPreflight,
  FencePrimary,
  Journal,
  MarkFailingBack,
  MarkPromoted,
  OpenStandby,
  pairOutputs,
  parseOptions,
  pilotLightCapacity,
  promotionCapacity,
  PromotionPreflight,
  RecheckPrimary,
  resolvePair,
  runSteps,
  ScaleWorkers,
  standbyServes,
  workloadOf,
  type CapacityPlan,
  type FailoverOptions,
  type Step,
} from '@platform/failover';
import { APP_HEALTH_CHECK_PATH, defaultPlatform, FENCED_HEALTH_CHECK_PATH, UNPROMOTED_HEALTH_CHECK_PATH, type ClusterDefinition, type Platform } from '@platform/platform-config';
import { awsCli } from './aws-cli';
import type { BootCheck } from './boot';
import { FakeKubeApi } from './fake-kube-api';
import { runChild } from './terraform';

/**
 * Steps of `failover promote` / `failback` NOT run against moto, each with why. Everything else
 * of both runs is the tool's own step classes, run by its own `runSteps` with the real AWS CLI
 * and kubectl.
 */
export const FAILOVER_NOT_RUN: readonly { readonly steps: string; readonly why: string }[] = [
  { steps: 'fence (its fenced Backup is put into the fake after the promotion, as the fence leaves it)', why: 'CloudNativePG takes the backup; the fence itself only scales apps, backs up and hibernates through Kubernetes' },
  { steps: 'archive-freshness', why: '`kubectl exec … psql` on the replica (streaming exec) and WAL objects barman-cloud wrote: no PostgreSQL, no CloudNativePG' },
  { steps: 'promote-database / restore-database, base-backup, final-backup, rearm-standby, verify-pilot-light', why: 'CloudNativePG Cluster and Backup reconciliation (phases, currentPrimary, pg_is_in_recovery()): the fake API is read-only and models no operator' },
  { steps: 'verify-app, fence-*-app', why: 'Deployment rollouts and HTTP through the ingress NLB (moto runs no load balancer data plane)' },
  { steps: 'dns-report', why: 'moto 5.2.6 has no Route 53 TestDNSAnswer and no NLB network interfaces; the records are read back instead' },
  { steps: 'nodes-ready, primary-nodes-ready', why: 'no kubelet registers: moto starts no instance' },
  { steps: 'record-serving-state, record-archive-server-name, deploy-refs', why: 'Git files and refs, not AWS: covered by the failover package tests' },
];

/** Deviations forced by moto. */
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
    what: 'promote runs with --force',
    why: 'moto answers GetHealthCheckStatus with one hard-coded Success observation (moto/route53/responses.py), so the primary always reads healthy; --force is the documented path for a primary whose check passes',
  },
  {
    what: "the clusters' CI kubeconfigs are put into SSM by the harness (SecureString, each cluster's region)",
    why: 'ci-kubeconfig.sh runs on a control-plane node after kubeadm init; here they point at the fake read-only APIs',
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
  readonly failbackSteps: readonly string[];
  readonly checks: readonly BootCheck[];
  readonly kubeRequests: number;
}

interface Asg {
  AutoScalingGroupName: string;
  MinSize: number;
  DesiredCapacity: number;
}

/**
 * `failover promote --standby <s> --force` then `failback --primary <p>`, the steps that talk to
 * AWS, against moto, and the result read back from moto (not from the tool's journal).
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
  const optionsFor = (argv: string[]): FailoverOptions =>
    parseOptions([...argv, '--out-dir', join(options.logDir, `failover-${argv[0]}`), '--state-file', join(dir, 'failover-state.json'), '--archives-file', join(dir, 'database-archives.ts'), '--poll-seconds', '1', '--asg-timeout', '60', '--clusters-dir', join(options.repoRoot, 'clusters')], options.repoRoot);
  const promote = optionsFor(['promote', '--standby', options.standby, '--force']);
  const { primary, standby } = resolvePair(platform, promote);
  const apis = await Promise.all([standby, primary].map((c) => FakeKubeApi.start(c.name)));
  try {
    // The workflow's path to the APIs: kubeconfigs from SSM through scripts/fetch-kubeconfigs.sh.
    for (const api of apis) {
      const cluster = platform.cluster(api.cluster);
      await aws('ssm', 'put-parameter', '--region', cluster.region, '--name', platform.namesOf(cluster).ssm.ciKubeconfig, '--type', 'SecureString', '--overwrite', '--value', api.kubeconfig());
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

    const workerAsgs = pilotLightCapacity(standby, platform.namesOf(standby)).targets.map((t) => t.asg);
    const policiesBefore = await mixedInstancesPolicies(aws, standby, workerAsgs);
    const promoteEnv = await kubeEnv(promote);
    const promoteSteps: Step[] = [
      new PromotionPreflight(),
      new MarkPromoted(),
      new ScaleWorkers({ name: 'scale-workers', plan: (ctx) => promotionCapacity(ctx.primary, ctx.standby, ctx.namesOf(ctx.standby)), waitFor: 'desired' }),
      new RecheckPrimary(),
      new FencePrimary(),
      new OpenStandby(),
    ];
    const promoted = await run(platform, promote, promoteSteps, promoteEnv, log, 'promote');
    check('promote: the AWS steps complete', promoted, promoteSteps.map((s) => s.name).join(', '));

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

    // The returned primary still runs its database (as generated in clusters/<primary>): fail-back
    // must refuse to replace it until the fence's backup, newer than the promotion, exists.
    const failback = optionsFor(['failback', '--primary', primary.name, '--replace-database']);
    const workload = workloadOf(failback, primary);
    const primaryApi = apis.find((a) => a.cluster === primary.name)!;
    primaryApi.put({ apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster', metadata: { name: workload.database, namespace: workload.namespace }, spec: workload.databaseSpec });
    const failbackEnv = await kubeEnv(failback);
    const refusedOutput: string[] = [];
    const refused = !(await run(platform, failback, [new FailbackPreflight(workload)], failbackEnv, (line) => refusedOutput.push(line), 'failback-unfenced'));
    const reason = refusedOutput.find((l) => l.includes('FAILED at step')) ?? '(it passed)';
    check(`failback: refused while ${primary.name}'s database has no fenced backup newer than the promotion`, refused && /no fenced backup completed after/.test(reason), reason.trim());
    // What `failover fence` leaves (not run here: CloudNativePG would take the backup).
    primaryApi.put({
      apiVersion: 'postgresql.cnpg.io/v1',
      kind: 'Backup',
      metadata: { name: `${workload.database}-fenced-e2e`, namespace: workload.namespace, labels: { [BACKUP_PURPOSE_LABEL]: 'fenced' } },
      spec: { cluster: { name: workload.database } },
      status: { phase: 'completed', stoppedAt: new Date().toISOString() },
    });
    const failbackSteps: Step[] = [
      new FailbackPreflight(workload),
      new MarkFailingBack(),
      new CloseStandby(),
      new ScaleWorkers({ name: 'scale-standby-down', plan: (ctx) => pilotLightCapacity(ctx.standby, ctx.namesOf(ctx.standby)), waitFor: 'desired' }),
      new ClearPromotedMarker(),
    ];
    const failedBack = await run(platform, failback, failbackSteps, failbackEnv, log, 'failback');
    check('failback: the AWS steps complete', failedBack, failbackSteps.map((s) => s.name).join(', '));
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
      const refused = await assertNotPromoted(platform, c, new Commands({ dryRun: false, env: failbackEnv })).then(() => undefined, (e: Error) => e.message);
      check(`failback: the apply guard allows ${platform.namesOf(c).stack}`, refused === undefined, refused ?? 'allowed');
    }
    // moto's artefact, repaired so the drift phase judges what the tool left, not what moto lost.
    for (const [asg, policy] of policiesBefore) {
      if (policy !== undefined) await aws('autoscaling', 'update-auto-scaling-group', '--region', standby.region, '--auto-scaling-group-name', asg, '--mixed-instances-policy', JSON.stringify(asRequest(policy)));
    }
    const policiesAfter = await mixedInstancesPolicies(aws, standby, workerAsgs);
    check("failback: the standby's worker ASGs keep their mixed instances policy (restored after moto's artefact)", [...policiesBefore].every(([asg, p]) => JSON.stringify(p) === JSON.stringify(policiesAfter.get(asg))), `${policiesBefore.size} ASGs compared`);
    for (const api of apis) {
      const writes = api.requests.filter((r) => !r.startsWith('GET '));
      check(`${api.cluster}'s fake API saw reads only`, writes.length === 0, `${api.requests.length} requests${writes.length ? `; writes: ${writes.join(', ')}` : ''}`);
    }
    return {
      ok: checks.every((c) => c.ok),
      seconds: (performance.now() - t0) / 1000,
      promoteSteps: promoteSteps.map((s) => s.name),
      failbackSteps: failbackSteps.map((s) => s.name),
      checks,
      kubeRequests: apis.reduce((n, a) => n + a.requests.length, 0),
    };
  } finally {
    await Promise.all(apis.map((a) => a.stop()));
  }
}

/** The tool's own step runner and Commands (real `aws`, `kubectl` from PATH), journal in the log dir. */
async function run(platform: Platform, options: FailoverOptions, steps: Step[], env: NodeJS.ProcessEnv, log: (line: string) => void, label: string): Promise<boolean> {
  const pair = resolvePair(platform, options);
  const journal = new Journal(`e2e ${label}`, steps, false);
  mkdirSync(options.outDir, { recursive: true });
  const cli = new Commands({ dryRun: false, env, timeoutMs: 120_000, onCall: (call) => journal.recordCall(call) });
  const ok = await runSteps(
    steps,
    { platform, ...pair, options, cli, facts: {}, namesOf: (c: ClusterDefinition) => platform.namesOf(c), sleep: (s: number) => new Promise((r) => setTimeout(r, s * 1000)), now: () => performance.now() / 1000, clock: () => new Date() },
    journal,
    (line) => log(`  [${label}] ${line}`),
  );
  writeFileSync(join(options.outDir, 'journal.json'), journal.toJson());
  writeFileSync(join(options.outDir, 'summary.md'), journal.toMarkdown());
  return ok;
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
