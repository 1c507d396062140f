import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultPlatform } from '@platform/platform-config';
import { Findings } from '../src/findings';
import { loadManifests, type K8sObject } from '../src/manifests';
import { terminationAnalysis, terminationModel, type TerminationModel } from '../src/private/termination-analysis';
import { loadTerraform } from '../src/terraform';
import { runHaCheck, objectivesForCluster } from '../src';
import { tempDir } from './helpers';

/*
 * Termination handling judged on the shipped production cluster: its Terraform synthesized here
 * (as shipped.test.ts does) and its committed manifests, then the same output with one part
 * taken away at a time, the way a regression would take it.
 */
const root = join(__dirname, '..', '..', '..');
const names = defaultPlatform().namesOf('production');
let stack: string;
let objects: K8sObject[];

beforeAll(() => {
  const out = tempDir();
  execFileSync(process.execPath, ['--import', 'tsx', '-e', `require(${JSON.stringify(join(root, 'apps/infra/src/main.ts'))}).synthInfra(${JSON.stringify(out)})`], { cwd: root, stdio: 'pipe' });
  stack = join(out, 'stacks', 'production-cluster', 'cdk.tf.json');
  objects = loadManifests(join(root, 'clusters', 'production'));
}, 120_000);

/** The production stack with `edit` applied to its JSON, loaded as ha-check loads a stack. */
function modelWith(edit: (json: any) => void = () => {}, manifests: readonly K8sObject[] = objects): TerminationModel { // eslint-disable-line @typescript-eslint/no-explicit-any
  const json = JSON.parse(readFileSync(stack, 'utf8'));
  edit(json);
  const dir = join(tempDir(), 'production-cluster');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cdk.tf.json'), JSON.stringify(json));
  return terminationModel(loadTerraform([dir]), manifests);
}

const judge = (model: TerminationModel) => {
  const findings = new Findings({ az: 'error', region: undefined, backups: 'warning' });
  return { outcome: terminationAnalysis(model, 50, 300, findings), findings: findings.list() };
};

describe('termination handling (production as shipped)', () => {
  it('is complete, and the report gives the pod RTO with it (0 s) and without it (grace + toleration)', () => {
    const report = runHaCheck({ terraform: [stack], manifests: join(root, 'clusters', 'production'), objectives: objectivesForCluster('production'), cluster: 'production' });
    expect(report.termination).toEqual({ handled: true, gaps: [], abruptPodRtoSeconds: report.assumptions.nodeMonitorGracePeriodSeconds + report.assumptions.defaultUnreachableTolerationSeconds, handledPodRtoSeconds: 0, drainBudgetSeconds: 120 });
    // node-bootstrap sets the API server's default unreachable toleration, so an abrupt loss costs grace + that.
    const { nodeMonitorGracePeriodSeconds: grace, defaultUnreachableTolerationSeconds: toleration } = report.assumptions;
    expect(report.findings.filter((f) => f.id.startsWith('termination.'))).toEqual([]);
    expect(grace + toleration).toBeGreaterThan(0);
  });
});

describe('termination handling with a part missing', () => {
  it('names the node ASG whose terminating hook is gone', () => {
    const { outcome, findings } = judge(modelWith((json) => {
      const hooks = json.resource.aws_autoscaling_lifecycle_hook;
      const victim = Object.keys(hooks).find((k) => hooks[k].lifecycle_transition === 'autoscaling:EC2_INSTANCE_TERMINATING' && k.includes('terminating-production-general-a'))!;
      delete hooks[victim];
    }));
    expect(outcome.handled).toBe(false);
    expect(outcome.gaps).toHaveLength(1);
    expect(outcome.gaps[0]).toBe('no terminating lifecycle hook on production-general-a');
    expect(findings.map((f) => [f.id, f.severity])).toEqual([['termination.not-handled', 'warning']]);
    expect(findings[0].message).toContain('pods stay lost 350 s (node-monitor grace 50 s + unreachable toleration 300 s) and leave without respecting PDBs, where a drain would lose none');
  });

  it('finds an undeliverable queue when the key policy lacks EventBridge (the default key policy)', () => {
    const { outcome } = judge(modelWith((json) => {
      for (const key of Object.values<any>(json.resource.aws_kms_key)) if (String(key.policy ?? '').includes('events.amazonaws.com')) delete key.policy; // eslint-disable-line @typescript-eslint/no-explicit-any
    }));
    expect(outcome.gaps).toEqual(["the queue's KMS key policy does not let events.amazonaws.com use kms:GenerateDataKey (the default key policy admits only the account's IAM principals): every send fails"]);
  });

  it('finds an undeliverable queue when its policy does not admit EventBridge', () => {
    const { outcome } = judge(modelWith((json) => {
      for (const p of Object.values<any>(json.resource.aws_sqs_queue_policy)) p.policy = JSON.stringify({ Version: '2012-10-17', Statement: [] }); // eslint-disable-line @typescript-eslint/no-explicit-any
    }));
    expect(outcome.gaps).toEqual(['the queue policy does not allow events.amazonaws.com sqs:SendMessage']);
  });

  it('names the events no rule sends (spot interruption)', () => {
    const { outcome } = judge(modelWith((json) => {
      const rules = json.resource.aws_cloudwatch_event_rule;
      for (const [id, rule] of Object.entries<any>(rules)) if (rule.event_pattern.includes('Spot Instance Interruption')) delete rules[id]; // eslint-disable-line @typescript-eslint/no-explicit-any
    }));
    expect(outcome.gaps).toEqual([`no EventBridge rule sends spot interruption warning events to ${names.nodeTermination.queue}`]);
  });

  it('has no queue at all without the rules\' targets', () => {
    const { outcome } = judge(modelWith((json) => delete json.resource.aws_cloudwatch_event_target));
    expect(outcome.gaps).toEqual(['no SQS queue receives termination events from EventBridge']);
  });

  it('needs the handler in queue mode on that queue', () => {
    const without = objects.filter((o) => !(o.kind === 'HelmRelease' && o.metadata?.name === 'aws-node-termination-handler'));
    expect(judge(modelWith(undefined, without)).outcome.gaps).toEqual(['no Node Termination Handler in queue mode (HelmRelease of the aws-node-termination-handler chart) in the manifests']);
    const imds = objects.map((o) => (o.kind === 'HelmRelease' && o.metadata?.name === 'aws-node-termination-handler' ? { ...o, spec: { ...(o.spec as object), values: { enableSqsTerminationDraining: false } } } : o));
    expect(judge(modelWith(undefined, imds)).outcome.gaps).toEqual(['HelmRelease/kube-system/aws-node-termination-handler is not in queue-processor mode (enableSqsTerminationDraining is not true): it watches IMDS on each node and completes no lifecycle hook']);
    const otherQueue = objects.map((o) => (o.kind === 'HelmRelease' && o.metadata?.name === 'aws-node-termination-handler' ? { ...o, spec: { ...(o.spec as object), values: { enableSqsTerminationDraining: true, queueURL: 'https://sqs.ap-northeast-2.amazonaws.com/123456789012/staging-node-termination' } } } : o));
    expect(judge(modelWith(undefined, otherQueue)).outcome.gaps).toEqual([`HelmRelease/kube-system/aws-node-termination-handler reads "https://sqs.ap-northeast-2.amazonaws.com/123456789012/staging-node-termination", not the queue the rules deliver to (${names.nodeTermination.queue})`]);
  });
});
