import { ROUTE53_METRICS_REGION } from '@platform/platform-config';
import type { Commands } from './commands';

/**
 * Arms or silences the us-east-1 alarm on a cluster's failover health check (aws-cluster
 * `HealthCheckAlarm`; Terraform ignores `actions_enabled` after creation). The standby's check
 * fails by design until a promotion opens it: its alarm pages only while it serves.
 * Enable/DisableAlarmActions ignore a name that does not exist, so the result is read back.
 */
export async function setAlarmActions(cli: Commands, alarmName: string, enabled: boolean): Promise<void> {
  const target = ['--region', ROUTE53_METRICS_REGION, '--alarm-names', alarmName];
  // Spelled out: apps/infra's IAM test scans each literal `aws <service> <command>` call.
  if (enabled) await cli.mutate('aws', ['cloudwatch', 'enable-alarm-actions', ...target]);
  else await cli.mutate('aws', ['cloudwatch', 'disable-alarm-actions', ...target]);
  if (cli.dryRun) return;
  const out = (await cli.read('aws', ['cloudwatch', 'describe-alarms', ...target, '--query', 'MetricAlarms[0].ActionsEnabled', '--output', 'text'])).trim();
  const expected = enabled ? 'True' : 'False';
  if (out !== expected) {
    throw new Error(`alarm ${alarmName} (${ROUTE53_METRICS_REGION}): ActionsEnabled reads ${out || 'nothing'} after ${enabled ? 'enabling' : 'disabling'}; ${out === 'None' ? "the alarm does not exist: apply the cluster's stack (aws-cluster HealthCheckAlarm)" : `expected ${expected}`}`);
  }
}
