import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { failoverRole, ROUTE53_METRICS_REGION, ssmParameterArn, type Platform } from '@platform/platform-config';

/**
 * Every AWS call of the region-failover tool (packages/failover), scanned from its code: the
 * TypeScript `cli.read/readJson/mutate('aws', ['<service>', '<command>', ...])` calls and the
 * workflow's shell scripts (`aws <service> <command>`). The role region-failover.yml assumes
 * must allow each one (ci-identity-permissions.test.ts); a call this table does not know fails
 * the test, so a new call cannot ship without its grant being judged.
 */

export interface AwsCall {
  /** `<service> <command>` as the CLI spells it. */
  readonly command: string;
  /** Where it is made, `path:line` from the repository root. */
  readonly at: string;
}

function files(dir: string, pattern: RegExp): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path, pattern);
    return pattern.test(name) ? [path] : [];
  });
}

/** The calls in `packages/failover` (tests excluded) of the repository at `root`. */
export function scanFailoverAwsCalls(root: string): { readonly calls: AwsCall[]; readonly unparsed: string[] } {
  const pkg = join(root, 'packages/failover');
  const calls: AwsCall[] = [];
  const unparsed: string[] = [];
  const lineOf = (text: string, index: number) => text.slice(0, index).split('\n').length;
  for (const file of files(join(pkg, 'src'), /(?<!\.test)\.ts$/)) {
    const text = readFileSync(file, 'utf8');
    const at = (i: number) => `${relative(root, file)}:${lineOf(text, i)}`;
    // Every child process of the tool goes through Commands with the tool name first.
    for (const m of text.matchAll(/\(\s*'aws'\s*,/g)) {
      const call = /^\(\s*'aws'\s*,\s*\[\s*'([a-z0-9-]+)'\s*,\s*'([a-z0-9-]+)'/.exec(text.slice(m.index));
      if (call) calls.push({ command: `${call[1]} ${call[2]}`, at: at(m.index) });
      else unparsed.push(at(m.index));
    }
  }
  for (const file of files(join(pkg, 'scripts'), /\.sh$/)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?!\s*#).*?\baws\s+([a-z0-9-]+)\s+([a-z0-9-]+)/gm)) calls.push({ command: `${m[1]} ${m[2]}`, at: `${relative(root, file)}:${lineOf(text, m.index)}` });
  }
  return { calls, unparsed };
}

/** One IAM request a CLI command makes, on the resources of the shipped platform. */
export interface FailoverRequest {
  readonly action: string;
  readonly resources: readonly string[];
  /** SecureString reads also decrypt through SSM (kms:Decrypt with the parameter ARN as context). */
  readonly decryptsThroughSsm?: boolean;
}

/**
 * What each CLI command needs from IAM (the service authorization reference), on the real ARNs
 * of every failover pair; `none`: a call every principal may make (sts get-caller-identity).
 */
export function failoverRequests(platform: Platform, account: string): Readonly<Record<string, readonly FailoverRequest[] | 'none'>> {
  const pairs = platform.clusters.flatMap((c) => {
    const pair = failoverRole(platform.clusters, c);
    return pair?.role === 'primary' ? [pair] : [];
  });
  const zone = platform.settings.dns ? `arn:aws:route53:::hostedzone/${platform.settings.dns.hostedZoneId}` : 'arn:aws:route53:::hostedzone/*';
  const healthChecks = 'arn:aws:route53:::healthcheck/*';
  const markers = pairs.map((p) => ssmParameterArn(platform.namesOf(p.standby).ssm.promotedMarker, p.standby.region, account));
  const kubeconfigs = pairs.flatMap((p) => [p.primary, p.standby].map((c) => ssmParameterArn(platform.namesOf(c).ssm.ciKubeconfig, c.region, account)));
  const buckets = pairs.flatMap((p) => [p.primary, p.standby].flatMap((c) => [platform.namesOf(c).appBackupBucket, platform.namesOf(c).appBackupReplicaBucket])).filter((b): b is string => b !== undefined);
  const pageAlarms = pairs.map((p) => `arn:aws:cloudwatch:${ROUTE53_METRICS_REGION}:${account}:alarm:${platform.namesOf(p.standby).healthCheckAlarm.alarm}`);
  const workerAsgs = pairs.flatMap((p) => [p.primary, p.standby].flatMap((c) => c.workerPools.flatMap((pool) => c.availabilityZones.map((az) => `arn:aws:autoscaling:${c.region}:${account}:autoScalingGroup:6a7b5c1d-0000-4000-8000-000000000000:autoScalingGroupName/${platform.namesOf(c).workerAsg(pool, az)}`))));
  return {
    'sts get-caller-identity': 'none',
    'route53 get-hosted-zone': [{ action: 'route53:GetHostedZone', resources: [zone] }],
    'route53 list-resource-record-sets': [{ action: 'route53:ListResourceRecordSets', resources: [zone] }],
    'route53 change-resource-record-sets': [{ action: 'route53:ChangeResourceRecordSets', resources: [zone] }],
    'route53 test-dns-answer': [{ action: 'route53:TestDNSAnswer', resources: ['*'] }],
    'route53 get-health-check': [{ action: 'route53:GetHealthCheck', resources: [healthChecks] }],
    'route53 get-health-check-status': [{ action: 'route53:GetHealthCheckStatus', resources: [healthChecks] }],
    'route53 update-health-check': [{ action: 'route53:UpdateHealthCheck', resources: [healthChecks] }],
    'elbv2 describe-load-balancers': [{ action: 'elasticloadbalancing:DescribeLoadBalancers', resources: ['*'] }],
    'ec2 describe-network-interfaces': [{ action: 'ec2:DescribeNetworkInterfaces', resources: ['*'] }],
    'autoscaling describe-auto-scaling-groups': [{ action: 'autoscaling:DescribeAutoScalingGroups', resources: ['*'] }],
    'autoscaling update-auto-scaling-group': [{ action: 'autoscaling:UpdateAutoScalingGroup', resources: workerAsgs }],
    's3api list-objects-v2': [{ action: 's3:ListBucket', resources: buckets.map((b) => `arn:aws:s3:::${b}`) }],
    'ssm get-parameter': [
      { action: 'ssm:GetParameter', resources: markers },
      { action: 'ssm:GetParameter', resources: kubeconfigs, decryptsThroughSsm: true },
    ],
    'cloudwatch enable-alarm-actions': [{ action: 'cloudwatch:EnableAlarmActions', resources: pageAlarms }],
    'cloudwatch disable-alarm-actions': [{ action: 'cloudwatch:DisableAlarmActions', resources: pageAlarms }],
    'cloudwatch describe-alarms': [{ action: 'cloudwatch:DescribeAlarms', resources: pageAlarms }],
    'ssm put-parameter': [{ action: 'ssm:PutParameter', resources: markers }],
    'ssm delete-parameter': [{ action: 'ssm:DeleteParameter', resources: markers }],
  };
}
