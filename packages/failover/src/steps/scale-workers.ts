import type { CapacityPlan } from '../capacity';
import { pollUntil } from '../private/poll';
import { StepError, type Step, type StepContext } from '../step';

interface Asg {
  AutoScalingGroupName: string;
  MinSize: number;
  MaxSize: number;
  DesiredCapacity: number;
  Instances?: { LifecycleState: string; HealthStatus: string }[];
}

const inService = (g: Asg) => (g.Instances ?? []).filter((i) => i.LifecycleState === 'InService' && i.HealthStatus === 'Healthy').length;

export interface ScaleWorkersProps {
  readonly name: string;
  readonly plan: (ctx: StepContext) => CapacityPlan;
  /** Wait until this many instances are InService, or only until AWS accepted the size (the promotion's scale-up, scale-down). */
  readonly waitFor: 'in-service' | 'desired';
}

/**
 * Sets min = desired on the standby's worker ASGs (max stays Terraform's) and waits. Only
 * groups whose size differs are updated, so a re-run after a failure picks up where it was.
 * Terraform owns min_size: the standby stack must not be applied while promoted (runbook).
 */
export class ScaleWorkers implements Step {
  readonly name: string;
  readonly verifies: string;

  constructor(private readonly props: ScaleWorkersProps) {
    this.name = props.name;
    this.verifies = props.waitFor === 'in-service' ? 'every standby worker ASG has min = desired = target and that many healthy InService instances' : 'every standby worker ASG reports min = desired = its target (instances launch in the background)';
  }

  async run(ctx: StepContext): Promise<void> {
    const plan = this.props.plan(ctx);
    plan.notes.forEach((n) => ctx.note(n));
    const region = ctx.standby.region;
    const describe = async () => {
      const out = await ctx.cli.readJson<{ AutoScalingGroups: Asg[] }>('aws', [
        'autoscaling',
        'describe-auto-scaling-groups',
        '--region',
        region,
        '--auto-scaling-group-names',
        ...plan.targets.map((t) => t.asg),
        '--output',
        'json',
      ]);
      return new Map(out.AutoScalingGroups.map((g) => [g.AutoScalingGroupName, g]));
    };
    const before = await describe();
    const missing = plan.targets.filter((t) => !before.has(t.asg)).map((t) => t.asg);
    if (missing.length > 0) throw new StepError(`worker ASGs not found in ${region}: ${missing.join(', ')} (is the ${ctx.standby.name} stack applied?)`);
    for (const t of plan.targets) {
      const g = before.get(t.asg)!;
      if (t.size > g.MaxSize) throw new StepError(`${t.asg}: target ${t.size} is above its MaxSize ${g.MaxSize}; raise maxPerAz of pool ${t.pool} in ${ctx.standby.name}`);
    }
    for (const t of plan.targets) {
      const g = before.get(t.asg)!;
      if (g.MinSize === t.size && g.DesiredCapacity === t.size) {
        ctx.note(`${t.asg}: already min = desired = ${t.size}`);
        continue;
      }
      ctx.note(`${t.asg}: min ${g.MinSize} → ${t.size}, desired ${g.DesiredCapacity} → ${t.size} (undo: --min-size ${g.MinSize} --desired-capacity ${g.DesiredCapacity})`);
      await ctx.cli.mutate('aws', [
        'autoscaling',
        'update-auto-scaling-group',
        '--region',
        region,
        '--auto-scaling-group-name',
        t.asg,
        '--min-size',
        String(t.size),
        '--desired-capacity',
        String(t.size),
      ]);
    }
    if (ctx.cli.dryRun) return ctx.note('dry run: not waiting for the groups');
    const total = plan.targets.reduce((sum, t) => sum + t.size, 0);
    const status = await pollUntil(ctx, this.props.waitFor === 'in-service' ? `${total} InService workers` : 'the new sizes', ctx.options.timeouts.asgSeconds, async () => {
      const now = await describe();
      const lagging = plan.targets.filter((t) => {
        const g = now.get(t.asg);
        return !g || (this.props.waitFor === 'in-service' ? inService(g) < t.size : g.DesiredCapacity !== t.size);
      });
      const seen = plan.targets.map((t) => `${t.asg} ${now.get(t.asg) ? inService(now.get(t.asg)!) : '?'}/${t.size}`).join(', ');
      return { done: lagging.length === 0, status: lagging.length === 0 ? seen : `${seen}; lagging: ${lagging.map((t) => t.asg).join(', ')}` };
    });
    ctx.note(`reached: ${status}`);
  }
}
