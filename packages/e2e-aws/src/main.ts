/**
 * npm run e2e:aws: every stack against moto with the real terraform. See README.md.
 * Exit 0 when every phase passed, 1 when one failed (the table says which), 2 on setup errors,
 * 3 when a run narrowed by E2E_AWS_ONLY / E2E_AWS_SKIP passed what it ran (PARTIAL) without --accept-partial.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultPlatform } from '@platform/platform-config';
import { orderedStacks, pipelinePaths } from '@platform/pipeline';
import { emulatorEnv, PROVIDER_MIRROR } from './emulator-env';
import { BOOT_WORKAROUNDS, EXCLUDED_RESOURCE_TYPES, IDEMPOTENCE_ARTEFACTS, type Substitution } from './emulator-gaps';
import { MotoServer } from './moto';
import { judgeIdempotence, type PlanJson } from './plan-judge';
import { HARNESS_ARTEFACTS, withArtefactIgnores } from './artefact-override';
import { emulatorOverride, protectedAddresses, substituted, withoutExcluded, withoutPreventDestroy, type StackJson } from './stack-copy';
import { runDriftPhase, type DriftResult } from './drift';
import { runBootPhase, type BootResult } from './boot';
import { STUBBED_BINARIES } from './emulated-node';
import { Terraform } from './terraform';
import { awsCli } from './aws-cli';
import { FAILOVER_NOT_RUN, FAILOVER_WORKAROUNDS, runFailoverPhase, type FailoverResult } from './failover';
import { checkovPlan, judgePlanFindings, loadPlanBaseline, PLAN_BASELINE, type PlanJudgement } from './plan-checkov';
import type { Finding } from './judges';
import { DEADLINE_ENV, DEADLINE_FLAG, runDeadline, runScope, runVerdict, type RunScope } from './run-scope';
import { describePeak, MemorySampler, type MemoryPeak } from './memory-sampler';
import { closingTable, type StackRow } from './closing-table';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const outDir = join(repoRoot, 'dist', 'e2e-aws');
const OVERRIDE_FILE = 'zz_e2e_aws_override.tf.json';


const started = performance.now();
const log = (line: string) => console.log(`[e2e-aws ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);

function sh(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  return execFileSync(cmd, args, { cwd: options.cwd ?? repoRoot, env: options.env ?? process.env, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
}

function table(rows: StackRow[], drift: DriftResult | undefined, boot: BootResult | undefined, failover: FailoverResult | undefined): string {
  const lines = [
    '| stack | applied | excluded | apply s | changes after apply | artefacts ignored | checkov on plan (failed / new) | protected (prevent_destroy) | destroy |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.map((r) => `| ${r.stack} | ${r.applied ?? '–'} | ${r.excluded.length} | ${r.applySeconds?.toFixed(0) ?? '–'} | ${r.changesAfterApply ?? '–'} | ${r.artefactsIgnored ?? '–'} | ${r.planChecks ? `${r.planChecks.failed} / ${r.planChecks.fresh}` : '–'} | ${r.protectedAddresses.length} | ${r.destroy ?? '–'} |`),
  ];
  if (boot) lines.push('', `Boot-time API calls (${boot.stack}, real AWS CLI, ${boot.seconds.toFixed(0)} s): ${boot.ok ? '✅' : '❌'} ${boot.checks.filter((c) => c.ok).length}/${boot.checks.length} checks; changes after the boot: ${boot.changesAfterBoot ?? '–'}`);
  if (failover) lines.push('', `Region failover (promote --force, fence, failback: real AWS CLI against moto, real kubectl against stateful fake Kubernetes APIs, ${failover.seconds.toFixed(0)} s): ${failover.ok ? '✅' : '❌'} ${failover.checks.filter((c) => c.ok).length}/${failover.checks.length} checks`);
  if (drift) lines.push('', `Drift: ${drift.summary}`);
  return lines.join('\n');
}

/** The commit the run synthesized from, and whether the tree had changes beside it. */
function revision(): string {
  try {
    const head = sh('git', ['rev-parse', '--short', 'HEAD']).trim();
    return sh('git', ['status', '--porcelain', '--untracked-files=no']).trim() === '' ? head : `${head} + uncommitted changes`;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<number> {
  const stacksDir = join(repoRoot, 'apps/infra/cdktf.out/stacks');
  if (!existsSync(stacksDir)) {
    console.error(`e2e-aws: no synthesized stacks in ${stacksDir}; run npx nx run infra:synth (nx run e2e-aws:e2e does it first)`);
    return 2;
  }
  if (!existsSync(join(PROVIDER_MIRROR, 'registry.terraform.io/hashicorp/aws'))) {
    console.error(`e2e-aws: no AWS provider in the mirror ${PROVIDER_MIRROR}; run tools/install-provider-mirror.sh`);
    return 2;
  }
  // Read before anything runs: the tree may change while a 15-minute run goes on.
  const startRevision = revision();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, 'logs'), { recursive: true });
  const logDir = join(outDir, 'logs');

  log('phase venv: tools/e2e/venv.sh aws, tools/e2e/venv.sh judges (checkov on the plans)');
  const binDir = sh(join(repoRoot, 'tools/e2e/venv.sh'), ['aws']).trim();
  const judgesBin = sh(join(repoRoot, 'tools/e2e/venv.sh'), ['judges']).trim();
  const planBaseline = loadPlanBaseline(repoRoot);
  mkdirSync(join(outDir, 'plans'), { recursive: true });

  // The work root looks like the repo to the pipeline CLI (apps/infra/cdktf.out/stacks, a git
  // HEAD), holds the e2e copies of the stacks and their .terraform, and is removed at the end.
  const workRoot = mkdtempSync(join(tmpdir(), 'e2e-aws-'));
  const workStacks = join(workRoot, 'apps/infra/cdktf.out/stacks');
  mkdirSync(workStacks, { recursive: true });
  copyFileSync(join(repoRoot, 'apps/infra/cdktf.out/manifest.json'), join(workRoot, 'apps/infra/cdktf.out/manifest.json'));
  sh('git', ['init', '-q'], { cwd: workRoot });
  sh('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@localhost', 'commit', '-q', '--allow-empty', '-m', 'e2e-aws work root'], { cwd: workRoot });
  const platform = defaultPlatform();
  let scope: RunScope;
  let deadlineMinutes: number;
  try {
    scope = runScope(process.env, process.argv.slice(2), orderedStacks(pipelinePaths(workRoot), platform));
    deadlineMinutes = runDeadline(process.env, process.argv.slice(2));
  } catch (error) {
    console.error(`e2e-aws: ${(error as Error).message}`);
    rmSync(workRoot, { recursive: true, force: true });
    return 2;
  }
  // Past the deadline no new phase starts; destroy still runs and the closing table is printed.
  const deadlineAt = started + deadlineMinutes * 60_000;
  const cutByDeadline: string[] = [];
  const pastDeadline = (what: string): boolean => {
    if (performance.now() < deadlineAt) return false;
    if (cutByDeadline.length === 0) log(`DEADLINE: ${deadlineMinutes} min passed (${DEADLINE_FLAG} / ${DEADLINE_ENV}); no new phase starts, going to destroy`);
    cutByDeadline.push(what);
    log(`  not started (deadline): ${what}`);
    return true;
  };
  log(`run deadline: ${deadlineMinutes} min for the phases before destroy`);
  if (scope.skipped.length > 0) log(`PARTIAL run: skipping ${scope.skipped.join('; ')}${scope.acceptPartial ? ' (accepted: --accept-partial)' : '; it will exit non-zero (--accept-partial accepts it)'}`);
  // The whole process tree (terraform and its provider plugins, moto, checkov, …), not only moto.
  const memory = new MemorySampler().start();
  let memoryPeak: MemoryPeak | undefined;

  log('phase moto: starting moto_server on a free 127.0.0.1 port');
  const moto = await MotoServer.start(binDir, logDir);
  let peakMoto: number | undefined;
  const stopMoto = () => {
    peakMoto = moto.peakMiB() ?? peakMoto;
    moto.stop();
  };
  process.on('exit', stopMoto);
  // Children run asynchronously, so these run at once; terraform gets SIGTERM from the kernel
  // when this process exits (setpriv --pdeathsig), moto is stopped here and by the kernel.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      log(`${signal}: stopping moto (pid ${moto.pid}) and exiting`);
      stopMoto();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
  log(`moto ${moto.endpoint} (pid ${moto.pid}), log ${moto.logFile}`);

  const env = emulatorEnv({ binDir, workRoot, endpoint: moto.endpoint });
  const terraform = new Terraform(env, logDir);
  const rows: StackRow[] = [];
  let drift: DriftResult | undefined;
  let boot: BootResult | undefined;
  let failover: FailoverResult | undefined;
  let planJudgement: PlanJudgement | undefined;
  const planChecks: Promise<Finding[]>[] = [];
  let substitutions: Substitution[] = [];
  let failed = false;

  try {
    log('phase state: the state bucket as docs/runbooks/state-bootstrap.md makes it');
    const bucket = platform.names.stateBucket;
    const region = platform.settings.state.region;
    const aws = awsCli(env, workRoot);
    await aws('s3api', 'create-bucket', '--bucket', bucket, '--region', region, '--create-bucket-configuration', `LocationConstraint=${region}`);
    await aws('s3api', 'put-bucket-versioning', '--bucket', bucket, '--region', region, '--versioning-configuration', 'Status=Enabled');
    await aws('s3api', 'put-bucket-encryption', '--bucket', bucket, '--region', region, '--server-side-encryption-configuration', '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms"},"BucketKeyEnabled":true}]}');
    await aws('s3api', 'put-public-access-block', '--bucket', bucket, '--region', region, '--public-access-block-configuration', 'BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true');
    log(`state bucket ${bucket} in ${region}: versioned, SSE-KMS, public access blocked`);

    // The public hosted zone is account-level (settings.dns), made outside every stack; moto
    // cannot create a zone with a chosen id, so the copy gets the id moto gave the same name.
    const dns = platform.settings.dns;
    if (dns) {
      const zone = JSON.parse(await aws('route53', 'create-hosted-zone', '--name', dns.hostedZoneName, '--caller-reference', 'e2e-aws')) as { HostedZone: { Id: string } };
      substitutions = [{ what: `hosted zone ${dns.hostedZoneName} (settings.dns.hostedZoneId)`, from: dns.hostedZoneId, to: zone.HostedZone.Id.replace('/hostedzone/', '') }];
      log(`hosted zone ${dns.hostedZoneName}: ${substitutions[0].to} stands in for ${dns.hostedZoneId}`);
    }

    const order = scope.stacks;
    log(`phase copy: ${order.join(' → ')}; excluded types: ${EXCLUDED_RESOURCE_TYPES.map((t) => t.type).join(', ') || 'none'}`);
    const originals = new Map<string, StackJson>();
    for (const stack of order) {
      const original = JSON.parse(readFileSync(join(stacksDir, stack, 'cdk.tf.json'), 'utf8')) as StackJson;
      const { stack: kept, exclusions } = withoutExcluded(original);
      const { stack: copy, count } = substituted(kept, substitutions);
      if (count > 0) log(`  ${stack}: ${count} value(s) substituted (${substitutions.map((x) => `${x.from} → ${x.to}`).join(', ')})`);
      originals.set(stack, copy);
      const dir = join(workStacks, stack);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'cdk.tf.json'), JSON.stringify(copy, null, 2));
      // The artefacts' ignore_changes make an untouched stack plan no changes (idempotence, drift).
      writeFileSync(join(dir, OVERRIDE_FILE), JSON.stringify(withArtefactIgnores(emulatorOverride(copy, moto.endpoint), copy), null, 2));
      rows.push({ stack, excluded: exclusions, changedAddresses: [], protectedAddresses: protectedAddresses(copy) });
      for (const e of exclusions) log(`  ${stack}: excluded ${e.address} (${e.because})`);
    }

    for (const row of rows) {
      const dir = join(workStacks, row.stack);
      if (pastDeadline(`apply ${row.stack}`)) {
        row.error = 'not applied: the run deadline passed';
        continue;
      }
      log(`phase apply: ${row.stack}`);
      try {
        const t0 = performance.now();
        await terraform.run(row.stack, 'init', dir, ['init', '-input=false']);
        await terraform.run(row.stack, 'apply', dir, ['apply', '-auto-approve', '-input=false']);
        row.applySeconds = (performance.now() - t0) / 1000;
        row.applied = (await terraform.run(row.stack, 'state-list', dir, ['state', 'list'])).stdout.split('\n').filter((a) => a && !a.startsWith('data.')).length;
        log(`  ${row.stack}: ${row.applied} resources in ${row.applySeconds.toFixed(0)} s, ${row.excluded.length} excluded`);

        log(`phase idempotence: ${row.stack} plan -detailed-exitcode`);
        const plan = await terraform.run(row.stack, 'plan-after-apply', dir, ['plan', '-detailed-exitcode', '-input=false', '-out=after-apply.tfplan'], [0, 2]);
        const shown = JSON.parse((await terraform.run(row.stack, 'show-after-apply', dir, ['show', '-json', 'after-apply.tfplan'])).stdout) as PlanJson;
        // The override's ignore_changes silence the artefacts; only those it cannot express are filtered here.
        const verdict = judgeIdempotence(shown, HARNESS_ARTEFACTS);
        row.changesAfterApply = verdict.changed.length;
        row.planExitCode = plan.code;
        // checkov on this plan's JSON runs beside the next stack's apply; judged before destroy.
        const planJson = join(outDir, 'plans', `${row.stack}.json`);
        writeFileSync(planJson, JSON.stringify(shown));
        const stackRow = row;
        const judged = checkovPlan(judgesBin, row.stack, planJson).then((findings) => {
          stackRow.planChecks = { failed: findings.length, fresh: judgePlanFindings(findings, planBaseline, [stackRow.stack]).fresh.length };
          return findings;
        });
        judged.catch(() => undefined); // awaited (and reported) with the others below
        planChecks.push(judged);
        row.changedAddresses = verdict.changed.map((c) => `${c.address} (${c.actions}: ${c.paths.join(', ')})`);
        row.artefactsIgnored = new Set(verdict.ignored.map((i) => i.change.address)).size;
        log(`  ${row.stack}: plan exit ${plan.code}; ${verdict.changed.length} resources changed; ${row.artefactsIgnored} resources with only emulator artefacts (${[...new Set(verdict.ignored.map((i) => `${i.change.type}.${i.change.path}`))].join(', ') || 'none'})`);
        for (const c of row.changedAddresses) log(`    ✗ ${c}`);
        if (verdict.changed.length > 0 || (plan.code !== 0 && HARNESS_ARTEFACTS.length === 0)) failed = true;
      } catch (error) {
        // Later stacks still run: one emulator gap should not hide the others' results.
        row.error = (error as Error).message;
        failed = true;
        log(`  ${row.stack}: FAILED ${row.error}`);
      }
    }

    const skip = scope.skipPhases;
    const bootStack = rows.find((r) => !r.error && r.stack !== 'ci-identity')?.stack;
    if (bootStack && !skip.has('boot') && !pastDeadline('boot')) {
      log(`phase boot: the node scripts' AWS calls on ${bootStack}'s control-plane instances, real AWS CLI against moto`);
      try {
        boot = await runBootPhase({ workRoot, env, stack: bootStack, logDir, log, terraform });
        if (!boot.ok) failed = true;
      } catch (error) {
        failed = true;
        log(`  boot: FAILED ${(error as Error).message}`);
      }
    }

    const standbyName = platform.clusters.find((c) => c.failover)?.failover?.standbyCluster;
    const pairApplied = standbyName && platform.settings.dns && [standbyName, platform.clusters.find((c) => c.failover)!.name].every((c) => rows.some((r) => r.stack === platform.namesOf(c).stack && !r.error));
    if (pairApplied && !skip.has('failover') && !pastDeadline('failover')) {
      log(`phase failover: promote --standby ${standbyName} --force, fence, failback with the tool's own steps (real AWS CLI against moto; real kubectl against stateful fake Kubernetes APIs with Flux, CloudNativePG and Deployment controllers)`);
      try {
        failover = await runFailoverPhase({ repoRoot, workRoot, env, hostedZoneId: substitutions[0]!.to, standby: standbyName, logDir, log });
        if (!failover.ok) failed = true;
      } catch (error) {
        failed = true;
        log(`  failover: FAILED ${(error as Error).message}`);
      }
    } else log('phase failover: skipped (the failover pair is not among the applied stacks)');

    log(`phase checkov on the plan JSON: waiting for ${planChecks.length} runs`);
    try {
      const findings = (await Promise.all(planChecks)).flat();
      planJudgement = judgePlanFindings(findings, planBaseline, rows.filter((r) => r.planChecks).map((r) => r.stack));
      log(`  ${findings.length} failed checks, ${planJudgement.fresh.length} not in ${PLAN_BASELINE}, ${planJudgement.stale.length} stale entries`);
      for (const f of planJudgement.fresh) log(`    ✗ ${f.rule} ${f.file} ${f.resource}: ${f.title}`);
      for (const e of planJudgement.stale) log(`    ✗ stale: ${e.rule} ${e.file} ${e.resource ?? ''}`);
      if (planJudgement.fresh.length > 0 || planJudgement.stale.length > 0) failed = true;
    } catch (error) {
      failed = true;
      log(`  checkov on the plans: FAILED ${(error as Error).message}`);
    }

    if (!skip.has('drift') && !pastDeadline('drift')) {
      log('phase drift: out-of-band change through moto, then npm run pipeline:drift for every stack');
      const applied = rows.filter((r) => !r.error).map((r) => r.stack);
      try {
        drift = await runDriftPhase({ repoRoot, workRoot, env, stacks: applied, logDir, log, terraform, platform });
        if (!drift.ok) failed = true;
      } catch (error) {
        failed = true;
        log(`  drift: FAILED ${(error as Error).message}`);
      }
    }

    for (const row of [...rows].reverse()) {
      const dir = join(workStacks, row.stack);
      if (row.applied === undefined && row.error?.startsWith('not applied')) continue;
      log(`phase destroy: ${row.stack} (prevent_destroy lifted in the e2e copy for: ${row.protectedAddresses.length} resources)`);
      writeFileSync(join(dir, 'cdk.tf.json'), JSON.stringify(withoutPreventDestroy(originals.get(row.stack)!), null, 2));
      try {
        await terraform.run(row.stack, 'destroy', dir, ['destroy', '-auto-approve', '-input=false']);
        const left = (await terraform.run(row.stack, 'state-list-after-destroy', dir, ['state', 'list'])).stdout.trim();
        row.destroy = left === '' ? 'clean' : `left: ${left.split('\n').length}`;
        if (left !== '') failed = true;
      } catch (error) {
        row.destroy = 'failed';
        row.error = (error as Error).message;
        failed = true;
      }
      log(`  ${row.stack}: destroy ${row.destroy}`);
    }
  } catch (error) {
    failed = true;
    log(`FAILED: ${(error as Error).message}`);
  } finally {
    memoryPeak = memory.stop();
    stopMoto();
    if (!process.env.E2E_AWS_KEEP) rmSync(workRoot, { recursive: true, force: true });
  }

  const seconds = (performance.now() - started) / 1000;
  const verdict = runVerdict(failed || cutByDeadline.length > 0, scope);
  if (cutByDeadline.length > 0) verdict.heading = `${verdict.heading} (DEADLINE ${deadlineMinutes} min: not started ${cutByDeadline.join(', ')})`;
  const closing = closingTable({ rows, seconds, memoryPeak, peakMoto, heading: verdict.heading, boot, failover, drift, revision: startRevision });
  const summary = [
    `# e2e-aws ${verdict.heading}`,
    '',
    table(rows, drift, boot, failover),
    '',
    `Run time ${seconds.toFixed(0)} s; ${describePeak(memoryPeak!)}; moto's own peak (VmHWM) ${peakMoto ?? '?'} MiB.`,
    '',
    '## Boot-time API calls (node scripts, real AWS CLI)',
    ...(boot ? boot.checks.map((c) => `- ${c.ok ? '✅' : '❌'} ${c.name}: ${c.detail}`) : ['- not run']),
    `- stubbed, not exercised: ${STUBBED_BINARIES.join(', ')} (curl answers IMDSv2 only; install-addons.sh not run: no Kubernetes API)`,
    ...BOOT_WORKAROUNDS.map((w) => `- moto workaround: ${w.what} (${w.reason})`),
    '',
    '## Region failover (the failover tool end to end: moto + fake Kubernetes)',
    ...(failover
      ? [
          `- promote ran: ${failover.promoteSteps.join(', ')}; fence ran: ${failover.fenceSteps.join(', ')}; failback ran: ${failover.failbackSteps.join(', ')}`,
          `- the fake Kubernetes APIs answered ${failover.kubeRequests} requests; kubectl's calls: ${failover.kubeCalls.join(', ')}`,
          ...failover.checks.map((c) => `- ${c.ok ? '✅' : '❌'} ${c.name}: ${c.detail}`),
        ]
      : ['- not run']),
    ...FAILOVER_NOT_RUN.map((n) => `- not run: ${n.steps} (${n.why})`),
    ...FAILOVER_WORKAROUNDS.map((w) => `- moto workaround: ${w.what} (${w.why})`),
    '',
    `## checkov on the plan JSON (terraform_plan, baseline ${PLAN_BASELINE})`,
    ...(planJudgement
      ? [
          `- ${planJudgement.findings.length} failed checks over ${rows.filter((r) => r.planChecks).length} plans; ${planJudgement.fresh.length} not in the baseline; ${planJudgement.stale.length} stale entries`,
          ...planJudgement.fresh.map((f) => `- ❌ new: ${f.rule} ${f.file} \`${f.resource}\`: ${f.title}`),
          ...planJudgement.stale.map((e) => `- ❌ stale entry: ${e.rule} ${e.file} ${e.resource ?? ''}`),
        ]
      : ['- not run']),
    '',
    '- not exercised at all: IAM, KMS key policies, bucket policies as enforcement',
    '',
    '## Protected on purpose (prevent_destroy, lifted in the e2e copy to destroy)',
    ...rows.flatMap((r) => r.protectedAddresses.map((a) => `- ${r.stack}: \`${a}\``)),
    '',
    '## Substituted (things outside the stacks, created in moto first)',
    ...substitutions.map((x) => `- ${x.what}: \`${x.from}\` → \`${x.to}\``),
    '',
    '## Excluded',
    ...(rows.some((r) => r.excluded.length) ? rows.flatMap((r) => r.excluded.map((e) => `- ${r.stack}: \`${e.address}\` (${e.because})`)) : ['- nothing: every resource type was applied']),
    '',
    '## Emulator artefacts (silenced by ignore_changes in the e2e override, src/artefact-override.ts)',
    ...IDEMPOTENCE_ARTEFACTS.map((a) => `- \`${a.type}\` \`${a.path}\` (${'ignore' in a.silenced ? 'ignore_changes' : 'follows' in a.silenced ? `follows ${a.silenced.follows}` : `harness filter: ${a.silenced.harness}`}): ${a.reason}`),
    ...(rows.some((r) => r.changedAddresses.length) ? ['', '## Changes after apply (failures)', ...rows.flatMap((r) => r.changedAddresses.map((c) => `- ${r.stack}: ${c}`))] : []),
    ...(rows.some((r) => r.error) ? ['', '## Errors', ...rows.filter((r) => r.error).map((r) => `- ${r.stack}: ${r.error}`)] : []),
  ].join('\n');
  writeFileSync(join(outDir, 'summary.md'), `${summary}\n`);
  writeFileSync(join(outDir, 'closing-table.md'), `${closing}\n`);
  console.log(`\n${summary}\n`);
  console.log(`\n## Closing table (dist/e2e-aws/closing-table.md, for docs/e2e.md)\n\n${closing}\n`);
  return verdict.exitCode;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(2);
  },
);
