import type { AutoScalingApi } from '../operations/control-plane-roll';
import { awsCli, type AwsCli } from './aws-images';

interface CliGroup {
  readonly AutoScalingGroupName: string;
  readonly LaunchTemplate?: { readonly Version?: string };
  readonly TargetGroupARNs?: readonly string[];
  readonly Instances?: readonly { readonly InstanceId: string; readonly LifecycleState: string; readonly HealthStatus: string; readonly LaunchTemplate?: { readonly Version?: string } }[];
}

/** Auto Scaling and ELB through the AWS CLI in `region`, with the job's credentials. */
export function awsCliAutoScaling(region: string, aws: AwsCli = awsCli): AutoScalingApi {
  const call = async <T>(...args: string[]) => JSON.parse(await aws([...args, '--region', region, '--output', 'json'])) as T;
  return {
    async describeGroups(names) {
      const out = await call<{ AutoScalingGroups: CliGroup[] }>('autoscaling', 'describe-auto-scaling-groups', '--auto-scaling-group-names', ...names);
      return out.AutoScalingGroups.map((g) => ({
        name: g.AutoScalingGroupName,
        version: g.LaunchTemplate?.Version ?? '',
        targetGroupArns: g.TargetGroupARNs ?? [],
        instances: (g.Instances ?? []).map((i) => ({ id: i.InstanceId, lifecycleState: i.LifecycleState, healthStatus: i.HealthStatus, version: i.LaunchTemplate?.Version })),
      }));
    },
    async startInstanceRefresh(group, preferences) {
      return (await call<{ InstanceRefreshId: string }>('autoscaling', 'start-instance-refresh', '--auto-scaling-group-name', group, '--strategy', 'Rolling', '--preferences', JSON.stringify(preferences))).InstanceRefreshId;
    },
    async describeInstanceRefresh(group, id) {
      const [refresh] = (await call<{ InstanceRefreshes: { Status: string; StatusReason?: string }[] }>('autoscaling', 'describe-instance-refreshes', '--auto-scaling-group-name', group, '--instance-refresh-ids', id)).InstanceRefreshes;
      if (!refresh) throw new Error(`${group}: instance refresh ${id} not found`);
      return { status: refresh.Status, reason: refresh.StatusReason };
    },
    async targetHealth(arn) {
      const out = await call<{ TargetHealthDescriptions: { Target: { Id: string }; TargetHealth: { State: string } }[] }>('elbv2', 'describe-target-health', '--target-group-arn', arn);
      return Object.fromEntries(out.TargetHealthDescriptions.map((d) => [d.Target.Id, d.TargetHealth.State]));
    },
  };
}
