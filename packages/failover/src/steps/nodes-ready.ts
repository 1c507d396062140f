import { pollUntil } from '../private/poll';
import { kube, type Side } from '../private/kube';
import { StepError, type Step, type StepContext } from '../step';

interface Node {
  metadata: { labels?: Record<string, string> };
  status?: { conditions?: { type: string; status: string }[] };
}

const ZONE = 'topology.kubernetes.io/zone';

export interface NodesReadyProps {
  readonly name: string;
  readonly side: Side;
  /** Ready workers each zone needs. */
  readonly perZone: (ctx: StepContext) => Map<string, number>;
  /**
   * What a timeout does: `fail` stops the run; `report` (the promotion's last step, after users
   * moved) writes it to the journal and lets the run succeed, so the workflow still moves the
   * deploy ref: the users already run on the standing capacity.
   * @default 'fail'
   */
  readonly onTimeout?: 'fail' | 'report';
}

/** Waits until every zone has its Ready workers (control-plane nodes do not count). */
export class NodesReady implements Step {
  readonly name: string;
  readonly verifies = 'each zone has at least the planned number of Ready worker nodes (zone label set by the cloud controller)';

  constructor(private readonly props: NodesReadyProps) {
    this.name = props.name;
  }

  async run(ctx: StepContext): Promise<void> {
    const cluster = ctx[this.props.side];
    const want = this.props.perZone(ctx);
    const check = async () => {
      const nodes = await ctx.cli.readJson<{ items: Node[] }>('kubectl', kube(cluster, 'get', 'nodes', '-o', 'json'));
      const ready = new Map<string, number>();
      for (const n of nodes.items) {
        const labels = n.metadata.labels ?? {};
        if ('node-role.kubernetes.io/control-plane' in labels) continue;
        if (!n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
        const zone = labels[ZONE] ?? '(no zone label)';
        ready.set(zone, (ready.get(zone) ?? 0) + 1);
      }
      const status = [...want].map(([zone, count]) => `${zone} ${ready.get(zone) ?? 0}/${count}`).join(', ');
      return { done: [...want].every(([zone, count]) => (ready.get(zone) ?? 0) >= count), status };
    };
    if (ctx.cli.dryRun) return ctx.note(`dry run: Ready workers now ${(await check()).status}`);
    try {
      ctx.note(`Ready workers per zone: ${await pollUntil(ctx, `Ready workers in ${cluster.name}`, ctx.options.timeouts.nodesSeconds, check)}`);
    } catch (error) {
      if (this.props.onTimeout !== 'report' || !(error instanceof StepError)) throw error;
      ctx.note(`WARNING: full capacity not reached: ${error.message}; ${cluster.name} serves on its standing workers, check the worker ASGs' scaling activities`);
    }
  }
}
