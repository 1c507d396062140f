import { awsCliAutoScaling } from '../../io/aws-autoscaling';
import { controlPlaneGroups, rollControlPlane, type AutoScalingApi } from '../../operations/control-plane-roll';
import { clusterNames, nameList, parseOptions } from '../arguments';
import { UsageError, type Command } from '../command';

export interface RollControlPlaneDeps {
  /** @default Auto Scaling and ELB through the AWS CLI in the cluster's region */
  readonly api?: AutoScalingApi;
  readonly pollMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * `roll-control-plane --cluster <name>`: after an apply, moves every control-plane node onto its
 * group's launch template version, one AZ at a time (operations/control-plane-roll.ts). Exit 0 when
 * every node runs the current version and serves, 1 when a refresh failed or a member is down.
 */
export function rollControlPlaneCommand(deps: RollControlPlaneDeps = {}): Command<{ readonly cluster?: string; readonly stacks?: readonly string[]; readonly timeoutMinutes: number }> {
  return {
    description: 'roll the control plane onto its launch templates one AZ at a time (instance refresh per group, waiting for the node to serve)',
    parse(args) {
      const v = parseOptions(args, { cluster: { type: 'string' }, stacks: { type: 'string' }, 'timeout-minutes': { type: 'string' } });
      if (v.cluster !== undefined && v.stacks !== undefined) throw new UsageError('--cluster rolls one cluster; it excludes --stacks');
      if (v.cluster === undefined && v.stacks === undefined) throw new UsageError('--cluster <name> or --stacks <JSON array of the applied stacks> is required');
      const timeoutMinutes = Number(v['timeout-minutes'] ?? 45);
      if (!Number.isFinite(timeoutMinutes) || timeoutMinutes <= 0) throw new UsageError(`--timeout-minutes ${v['timeout-minutes']}: expected a positive number`);
      return v.cluster !== undefined ? { cluster: v.cluster, timeoutMinutes } : { stacks: nameList('--stacks', v.stacks!), timeoutMinutes };
    },
    async run({ cluster, stacks, timeoutMinutes }, { platform, actions, log }) {
      // After an apply: the clusters whose own stack was applied, one after the other (a cluster's
      // launch templates change only through its stack; ci-identity has none).
      const names = cluster !== undefined ? clusterNames(platform, '--cluster', [cluster]) : platform.clusters.filter((c) => stacks!.includes(platform.namesOf(c).stack)).map((c) => c.name);
      const lines: string[] = [];
      for (const name of names) {
        const definition = platform.cluster(name);
        const groups = controlPlaneGroups(definition, platform.namesOf(definition));
        const api = deps.api ?? awsCliAutoScaling(definition.region);
        const result = await rollControlPlane({ groups, api, pollMs: deps.pollMs, sleep: deps.sleep, timeoutMs: timeoutMinutes * 60_000, log });
        const deferred = result.deferred.length > 0 ? `; ⚠️ deferred ${result.deferred.join(', ')} (${result.deferredBecause}): the next apply rolls them` : '';
        const line = `${name}: rolled ${result.rolled.join(', ') || 'nothing'}; already current ${result.current.join(', ') || 'none'}${deferred}`;
        log(line);
        lines.push(line);
      }
      if (names.length === 0) lines.push('no cluster stack applied: nothing to roll');
      actions.summary(`### Control-plane roll\n\n${lines.join('\n\n')}\n`);
      return 0;
    },
  };
}
