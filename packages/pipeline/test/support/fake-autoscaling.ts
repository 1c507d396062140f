import type { AwsCli } from '../../src/io/aws-images';
import { cliOption } from './cli-options';

interface Instance {
  id: string;
  state: string;
  health: string;
  version: string;
}
interface Group {
  name: string;
  version: string;
  targetGroupArns: string[];
  instances: Instance[];
}
interface Refresh {
  id: string;
  group: string;
  status: string;
  /** Ticks since start; the phase follows from it. */
  age: number;
  surge: boolean;
  old?: string;
  fresh?: string;
  reason?: string;
}

/**
 * The `aws` CLI for one region's Auto Scaling groups of one instance each and their target groups,
 * time-driven: every call is one tick of a clock that every running refresh follows, as the real
 * service goes on while we wait. Semantics from the API reference: StartInstanceRefresh refuses a
 * group with a refresh in progress (InstanceRefreshInProgress) and preferences outside
 * MinHealthyPercentage 0–100, MaxHealthyPercentage 100–200 with at most 100 between them; below
 * 100 % minimum a one-instance group terminates first (terminating hook, then the launch), at 100 %
 * it launches first; a new instance waits in Pending:Wait for the launching hook, then InService;
 * the refresh turns Successful after the warmup, which does not wait for the load balancer, whose
 * target goes initial → healthy three ticks later. `failNext` makes the next refresh end Failed,
 * `targetsNeverHealthy` keeps new targets initial (an API server that never gets ready).
 * `peakDown` is the most groups whose member did not serve at one time.
 */
export function fakeAutoScaling(groups: { name: string; version: string; instanceVersion: string; targetGroupArns: string[] }[]) {
  let serial = 0;
  const world = new Map<string, Group>();
  const targets = new Map<string, Map<string, string>>();
  const refreshes: Refresh[] = [];
  const calls: string[] = [];
  const started: string[] = [];
  const state = { peakDown: 0, failNext: false, targetsNeverHealthy: false };
  /** New targets and the ticks until they pass the NLB's healthy threshold (several checks, after the refresh's warmup). */
  const passing = new Map<string, { group: Group; ticks: number }>();
  const newId = () => `i-0${(++serial).toString(16).padStart(16, '0')}`;
  for (const g of groups) {
    const id = newId();
    world.set(g.name, { name: g.name, version: g.version, targetGroupArns: g.targetGroupArns, instances: [{ id, state: 'InService', health: 'Healthy', version: g.instanceVersion }] });
    for (const arn of g.targetGroupArns) (targets.get(arn) ?? targets.set(arn, new Map()).get(arn)!).set(id, 'healthy');
  }
  const setTarget = (group: Group, id: string, s: string | undefined) => group.targetGroupArns.forEach((arn) => (s === undefined ? targets.get(arn)!.delete(id) : targets.get(arn)!.set(id, s)));
  const serves = (g: Group) => g.instances.length === 1 && g.instances[0]!.state === 'InService' && g.targetGroupArns.every((arn) => targets.get(arn)!.get(g.instances[0]!.id) === 'healthy');
  const launch = (g: Group) => {
    const fresh: Instance = { id: newId(), state: 'Pending:Wait', health: 'Healthy', version: g.version };
    g.instances.push(fresh);
    setTarget(g, fresh.id, 'initial');
    return fresh.id;
  };
  const terminate = (g: Group, id: string | undefined, s: 'Terminating:Wait' | 'gone') => {
    const node = g.instances.find((i) => i.id === id);
    if (!node) return;
    if (s === 'gone') {
      g.instances = g.instances.filter((i) => i.id !== id);
      setTarget(g, id!, undefined);
    } else {
      node.state = s;
      setTarget(g, id!, 'draining');
    }
  };
  const tick = () => {
    for (const [id, p] of passing) {
      if (--p.ticks > 0) continue;
      passing.delete(id);
      if (p.group.instances.some((i) => i.id === id)) setTarget(p.group, id, 'healthy');
    }
    for (const r of refreshes.filter((x) => x.status === 'Pending' || x.status === 'InProgress')) {
      const g = world.get(r.group)!;
      r.age++;
      r.status = 'InProgress';
      // Terminate first: age 1 terminating hook, 3 gone + launch, 6 InService, 7 Successful, 8 target healthy.
      // Launch first: age 1 launch, 4 InService, 5 old terminating, 7 gone, 8 Successful/healthy.
      const [launchAt, serviceAt, terminateAt, goneAt, doneAt] = r.surge ? [1, 4, 5, 7, 8] : [3, 6, 1, 3, 7];
      if (r.age === terminateAt) terminate(g, r.old, 'Terminating:Wait');
      if (r.age === goneAt) terminate(g, r.old, 'gone');
      if (r.age === launchAt) r.fresh = launch(g);
      const fresh = g.instances.find((i) => i.id === r.fresh);
      if (r.age === serviceAt && fresh) fresh.state = 'InService';
      if (r.age === doneAt) {
        if (state.failNext) {
          state.failNext = false;
          r.status = 'Failed';
          r.reason = 'Instance refresh failed: the launching lifecycle hook was abandoned';
          if (fresh) fresh.health = 'Unhealthy';
        } else r.status = 'Successful';
      }
      if (r.status === 'Successful' && fresh && !state.targetsNeverHealthy) passing.set(fresh.id, { group: g, ticks: 3 });
    }
    const down = [...world.values()].filter((g) => !serves(g)).length;
    state.peakDown = Math.max(state.peakDown, down);
  };
  const aws: AwsCli = async (args) => {
    calls.push(args.join(' '));
    tick();
    const [service, operation] = args;
    if (service === 'autoscaling' && operation === 'describe-auto-scaling-groups') {
      const names = cliOption(args, '--auto-scaling-group-names');
      return JSON.stringify({
        AutoScalingGroups: [...world.values()].filter((g) => names.includes(g.name)).map((g) => ({
          AutoScalingGroupName: g.name,
          LaunchTemplate: { LaunchTemplateId: `lt-${g.name}`, LaunchTemplateName: g.name, Version: g.version },
          TargetGroupARNs: g.targetGroupArns,
          Instances: g.instances.map((i) => ({ InstanceId: i.id, LifecycleState: i.state, HealthStatus: i.health, LaunchTemplate: { Version: i.version } })),
        })),
      });
    }
    if (service === 'autoscaling' && operation === 'start-instance-refresh') {
      const [name] = cliOption(args, '--auto-scaling-group-name');
      const g = world.get(name ?? '');
      if (!g) throw new Error(`An error occurred (ValidationError) when calling the StartInstanceRefresh operation: AutoScalingGroup name not found - ${name}`);
      if (refreshes.some((r) => r.group === g.name && (r.status === 'Pending' || r.status === 'InProgress'))) throw new Error('An error occurred (InstanceRefreshInProgress) when calling the StartInstanceRefresh operation: An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.');
      const prefs = JSON.parse(cliOption(args, '--preferences')[0] ?? '{}') as { MinHealthyPercentage?: number; MaxHealthyPercentage?: number; SkipMatching?: boolean };
      const min = prefs.MinHealthyPercentage ?? 90;
      const max = prefs.MaxHealthyPercentage ?? 100;
      if (min < 0 || min > 100 || max < 100 || max > 200 || max - min > 100) throw new Error('An error occurred (ValidationError) when calling the StartInstanceRefresh operation: invalid MinHealthyPercentage/MaxHealthyPercentage');
      const id = `refresh-${++serial}`;
      const old = g.instances[0];
      const matching = prefs.SkipMatching && old?.version === g.version;
      refreshes.push({ id, group: g.name, status: matching ? 'Successful' : 'Pending', age: 0, surge: min === 100, old: old?.id });
      started.push(g.name);
      return JSON.stringify({ InstanceRefreshId: id });
    }
    if (service === 'autoscaling' && operation === 'describe-instance-refreshes') {
      const [name] = cliOption(args, '--auto-scaling-group-name');
      const ids = cliOption(args, '--instance-refresh-ids');
      return JSON.stringify({ InstanceRefreshes: refreshes.filter((r) => r.group === name && ids.includes(r.id)).map((r) => ({ InstanceRefreshId: r.id, AutoScalingGroupName: r.group, Status: r.status, StatusReason: r.reason })) });
    }
    if (service === 'elbv2' && operation === 'describe-target-health') {
      const [arn] = cliOption(args, '--target-group-arn');
      const group = targets.get(arn ?? '');
      if (!group) throw new Error(`An error occurred (TargetGroupNotFound) when calling the DescribeTargetHealth operation: ${arn}`);
      return JSON.stringify({ TargetHealthDescriptions: [...group].map(([id, s]) => ({ Target: { Id: id, Port: 6443 }, TargetHealth: { State: s } })) });
    }
    throw new Error(`fake aws: unexpected call ${args.join(' ')}`);
  };
  return { aws, calls, started, state, world, targets, refreshes };
}
