import type { Attributes, Synth } from './support';

/**
 * A small model of what FIS and EC2 Auto Scaling do to a cluster's instances during an
 * experiment, read from the synthesized stack (groups, subnets) and a synthesized template.
 * It follows the documented semantics, one 10-second step at a time:
 *
 * - A group with EC2 health checks marks an instance in any state but `running` unhealthy,
 *   terminates it and launches a replacement in its AZ (a launch fails while FIS injects
 *   InsufficientInstanceCapacity for that AZ).
 * - `aws:ec2:stop-instances` stops its targets and, with `startInstancesAfterDuration`, starts
 *   the same ids again after the duration; an id that is terminated by then cannot be started
 *   and the action, so the experiment, fails.
 * - `aws:network:disrupt-connectivity` (scope all) swaps a deny-all network ACL onto its subnets
 *   for the duration: no packet crosses their boundary; instances keep running.
 * - `aws:ec2:asg-insufficient-instance-capacity-error` fails its groups' launches in the zones of
 *   `availabilityZoneIdentifiers` for the duration.
 *
 * An action id it does not know throws, so a template it cannot judge never passes.
 */

const STEP_SECONDS = 10;

interface Instance {
  readonly id: string;
  readonly group: string;
  readonly zone: string;
  readonly subnet: string;
  readonly tags: Readonly<Record<string, string>>;
  state: 'running' | 'stopped' | 'terminated';
}

interface Group {
  readonly name: string;
  readonly zone: string;
  readonly subnet: string;
  readonly healthCheckType: string;
  readonly tags: Readonly<Record<string, string>>;
  desired: number;
}

export interface ExperimentResult {
  readonly status: 'completed' | 'failed';
  readonly reason?: string;
  /** Ids terminated by the groups during the run. */
  readonly terminated: readonly string[];
  /** `<group>: <error>` for every launch that failed. */
  readonly failedLaunches: readonly string[];
}

function seconds(duration: string): number {
  const match = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(duration);
  if (!match) throw new Error(`not an ISO 8601 duration FIS accepts: ${duration}`);
  return Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0);
}

const parameter = (action: Attributes, key: string): string | undefined => (action.parameter as Attributes[] | undefined)?.find((p) => p.key === key)?.value;

export class ClusterUnderExperiment {
  readonly instances: Instance[] = [];
  private readonly groups: Group[];
  private readonly subnetZones = new Map<string, string>();
  private readonly disrupted = new Set<string>();
  private readonly noCapacity = new Map<string, Set<string>>(); // group -> zones
  private readonly terminated: string[] = [];
  private readonly failedLaunches: string[] = [];
  private launched = 0;

  constructor(synth: Synth) {
    for (const [name, subnet] of synth.resources('aws_subnet')) this.subnetZones.set(`\${aws_subnet.${name}.id}`, subnet.availability_zone);
    this.groups = synth.values('aws_autoscaling_group').map((g) => {
      const [subnet] = g.vpc_zone_identifier as string[];
      const zone = this.subnetZones.get(subnet);
      if (!zone) throw new Error(`group ${g.name}: subnet ${subnet} not in the stack`);
      const tags = Object.fromEntries((g.tag as Attributes[]).filter((t) => t.propagate_at_launch).map((t) => [t.key, t.value]));
      return { name: g.name, zone, subnet, healthCheckType: g.health_check_type, tags, desired: g.desired_capacity ?? g.min_size };
    });
    for (const group of this.groups) for (let i = 0; i < group.desired; i++) this.launch(group);
  }

  /** Running instances of `zone` (the AZ's nodes). */
  running(zone: string): Instance[] {
    return this.instances.filter((i) => i.zone === zone && i.state === 'running');
  }

  /** Whether a packet from `a` reaches `b`: both running, and no disrupted subnet boundary between them. */
  reachable(a: Instance, b: Instance): boolean {
    if (a.state !== 'running' || b.state !== 'running') return false;
    return a.subnet === b.subnet || (!this.disrupted.has(a.subnet) && !this.disrupted.has(b.subnet));
  }

  /** What cluster-autoscaler does when pods are pending: one more instance in `group`. */
  scaleOut(groupName: string): void {
    const group = this.groups.find((g) => g.name === groupName);
    if (!group) throw new Error(`no group ${groupName}`);
    group.desired += 1;
  }

  private launch(group: Group): void {
    if (this.noCapacity.get(group.name)?.has(group.zone)) {
      this.failedLaunches.push(`${group.name}: InsufficientInstanceCapacity`);
      return;
    }
    this.launched += 1;
    this.instances.push({ id: `i-${String(this.launched).padStart(4, '0')}`, group: group.name, zone: group.zone, subnet: group.subnet, tags: group.tags, state: 'running' });
  }

  /** One pass of every group: replace what EC2 health checks call unhealthy, launch up to desired. */
  private reconcileGroups(): void {
    for (const group of this.groups) {
      for (const instance of this.instances.filter((i) => i.group === group.name && i.state === 'stopped')) {
        if (group.healthCheckType !== 'EC2' && group.healthCheckType !== 'ELB') throw new Error(`unknown health check type ${group.healthCheckType}`);
        instance.state = 'terminated';
        this.terminated.push(instance.id);
      }
      const live = this.instances.filter((i) => i.group === group.name && i.state !== 'terminated').length;
      for (let n = live; n < group.desired; n++) this.launch(group);
    }
  }

  /**
   * Runs `template` (a synthesized aws_fis_experiment_template) to its end; `during` is called
   * once in the middle of the longest action, to look at the cluster while the fault holds.
   */
  run(template: Attributes, during: () => void = () => undefined): ExperimentResult {
    const targets = new Map<string, Attributes>((template.target as Attributes[]).map((t) => [t.name, t]));
    const targetOf = (action: Attributes): Attributes => {
      const found = targets.get(action.target.value);
      if (!found) throw new Error(`action ${action.name}: no target ${action.target.value}`);
      return found;
    };
    const hasTags = (tags: Readonly<Record<string, string>>, target: Attributes) => ((target.resource_tag ?? []) as Attributes[]).every((t) => tags[t.key] === t.value);
    const phases: { readonly at: number; readonly run: () => string | undefined }[] = [];
    let end = 0;

    for (const action of template.action as Attributes[]) {
      const target = targetOf(action);
      switch (action.action_id) {
        case 'aws:ec2:stop-instances': {
          const zoneFilter = (target.filter as Attributes[] | undefined)?.find((f) => f.path === 'Placement.AvailabilityZone')?.values as string[] | undefined;
          const ids = this.instances.filter((i) => i.state === 'running' && hasTags(i.tags, target) && (!zoneFilter || zoneFilter.includes(i.zone))).map((i) => i.id);
          const after = parameter(action, 'startInstancesAfterDuration');
          phases.push({ at: 0, run: () => void ids.forEach((id) => this.set(id, 'stopped')) });
          if (after) {
            end = Math.max(end, seconds(after));
            phases.push({
              at: seconds(after),
              run: () => {
                const gone = ids.filter((id) => this.instances.find((i) => i.id === id)?.state === 'terminated');
                if (gone.length > 0) return `${action.name}: StartInstances failed, instances ${gone.join(', ')} are terminated (IncorrectInstanceState)`;
                ids.forEach((id) => this.set(id, 'running'));
                return undefined;
              },
            });
          }
          break;
        }
        case 'aws:network:disrupt-connectivity': {
          if (parameter(action, 'scope') !== 'all') throw new Error(`model covers scope all only, got ${parameter(action, 'scope')}`);
          const zone = target.parameters?.availabilityZoneIdentifier;
          const subnets = [...this.subnetZones].filter(([, z]) => z === zone).map(([ref]) => ref);
          const duration = seconds(parameter(action, 'duration') ?? '');
          end = Math.max(end, duration);
          phases.push({ at: 0, run: () => void subnets.forEach((s) => this.disrupted.add(s)) });
          phases.push({ at: duration, run: () => void subnets.forEach((s) => this.disrupted.delete(s)) });
          break;
        }
        case 'aws:ec2:asg-insufficient-instance-capacity-error': {
          const zones = (parameter(action, 'availabilityZoneIdentifiers') ?? '').split(',');
          if (parameter(action, 'percentage') !== '100') throw new Error('model covers percentage 100 only');
          const groups = this.groups.filter((g) => hasTags(g.tags, target)).map((g) => g.name);
          const duration = seconds(parameter(action, 'duration') ?? '');
          end = Math.max(end, duration);
          phases.push({ at: 0, run: () => void groups.forEach((g) => this.noCapacity.set(g, new Set(zones))) });
          phases.push({ at: duration, run: () => void groups.forEach((g) => this.noCapacity.delete(g)) });
          break;
        }
        default:
          throw new Error(`the model does not know FIS action ${action.action_id}`);
      }
    }

    let failure: string | undefined;
    for (let t = 0; t <= end + STEP_SECONDS; t += STEP_SECONDS) {
      for (const phase of phases.filter((p) => p.at >= t && p.at < t + STEP_SECONDS)) failure ??= phase.run();
      if (t === Math.floor(end / 2 / STEP_SECONDS) * STEP_SECONDS) during();
      this.reconcileGroups();
    }
    return { status: failure ? 'failed' : 'completed', ...(failure ? { reason: failure } : {}), terminated: [...this.terminated], failedLaunches: [...this.failedLaunches] };
  }

  private set(id: string, state: Instance['state']): void {
    const instance = this.instances.find((i) => i.id === id);
    if (instance && instance.state !== 'terminated') instance.state = state;
  }
}
