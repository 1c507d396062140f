import { table } from '../io/markdown';
import { PRICE_TABLE, type PriceTable, type RegionPrices } from './price-table';
import type { SynthesizedStack } from './synth-diff';

/**
 * Estimated monthly cost of a cluster stack from its synthesized Terraform and the committed
 * price table: instances by Auto Scaling group at its min and max size (spot share per its
 * instances distribution), their gp3 volumes, NAT gateways, load balancers, public IPv4
 * addresses, EBS volumes and cross-region replication. Usage (traffic, load balancer capacity
 * units, requests) is not estimated, apart from a stated replication volume.
 */

export interface CostLine {
  readonly item: string;
  readonly min: number;
  readonly max: number;
}

export interface CostEstimate {
  readonly region: string;
  readonly lines: readonly CostLine[];
  readonly min: number;
  readonly max: number;
  /** What could not be priced (an instance type or region missing from the table). */
  readonly unpriced: readonly string[];
}

type Res = Record<string, unknown>;

function byType(stack: SynthesizedStack | undefined, type: string): [string, Res][] {
  return Object.entries((stack?.resource?.[type] ?? {}) as Record<string, Res>);
}

function num(v: unknown, fallback = 0): number {
  const n = typeof v === 'string' ? Number(v) : (v as number);
  return typeof n === 'number' && Number.isFinite(n) ? n : fallback;
}

/** `${aws_launch_template.NAME.id}` → NAME */
function referencedName(ref: unknown, type: string): string | undefined {
  return typeof ref === 'string' ? new RegExp(`\\$\\{${type}\\.([^.}]+)\\.`).exec(ref)?.[1] : undefined;
}

function asList(v: unknown): Res[] {
  return Array.isArray(v) ? (v as Res[]) : v && typeof v === 'object' ? [v as Res] : [];
}

/** Instances of a group of `n` that run on demand, per its instances distribution (AWS defaults: base 0, 100 % above). */
export function onDemandCount(n: number, distribution: Res | undefined): number {
  const base = num(distribution?.on_demand_base_capacity, 0);
  const pct = num(distribution?.on_demand_percentage_above_base_capacity, 100);
  const baseUsed = Math.min(n, base);
  return baseUsed + Math.ceil(((n - baseUsed) * pct) / 100);
}

export function estimateStackCost(stack: SynthesizedStack | undefined, region: string, prices: PriceTable = PRICE_TABLE): CostEstimate {
  const p: RegionPrices | undefined = prices.regions[region];
  const hours = prices.hoursPerMonth;
  const unpriced: string[] = [];
  const lines: CostLine[] = [];
  if (!stack) return { region, lines, min: 0, max: 0, unpriced };
  if (!p) return { region, lines, min: 0, max: 0, unpriced: [`region ${region} (not in the price table of ${prices.date})`] };
  const templates = new Map(byType(stack, 'aws_launch_template'));
  for (const [name, asg] of byType(stack, 'aws_autoscaling_group')) {
    const mixed = asg.mixed_instances_policy as Res | undefined;
    const spec = (mixed?.launch_template as Res | undefined)?.launch_template_specification as Res | undefined;
    const templateName = referencedName(spec?.launch_template_id ?? (asg.launch_template as Res | undefined)?.id, 'aws_launch_template');
    const template = templateName ? templates.get(templateName) : undefined;
    const override = asList((mixed?.launch_template as Res | undefined)?.override)[0];
    const type = (override?.instance_type ?? template?.instance_type) as string | undefined;
    const hourly = type ? p.instanceHour[type] : undefined;
    if (hourly === undefined) {
      unpriced.push(`${String(asg.name ?? name)}: instance type ${type ?? '(unknown)'}`);
      continue;
    }
    const distribution = mixed?.instances_distribution as Res | undefined;
    const instanceMonth = (n: number) => {
      const od = onDemandCount(n, distribution);
      return (od * hourly + (n - od) * hourly * prices.spotToOnDemandRatio) * hours;
    };
    const gbPerInstance = asList(template?.block_device_mappings).reduce((sum, m) => sum + num((m.ebs as Res | undefined)?.volume_size), 0);
    const min = num(asg.min_size);
    const max = num(asg.max_size);
    lines.push({ item: `instances ${String(asg.name ?? name)} (${min}–${max} × ${type})`, min: instanceMonth(min), max: instanceMonth(max) });
    if (gbPerInstance > 0) lines.push({ item: `EBS of ${String(asg.name ?? name)} (${gbPerInstance} GB each)`, min: min * gbPerInstance * p.ebsGp3GbMonth, max: max * gbPerInstance * p.ebsGp3GbMonth });
  }
  const fixed = (item: string, monthly: number) => {
    if (monthly > 0) lines.push({ item, min: monthly, max: monthly });
  };
  const nat = byType(stack, 'aws_nat_gateway').length;
  fixed(`NAT gateways (${nat})`, nat * p.natGatewayHour * hours);
  const lbs = byType(stack, 'aws_lb').length;
  fixed(`load balancers (${lbs}, hours only)`, lbs * p.loadBalancerHour * hours);
  const eips = byType(stack, 'aws_eip').length;
  fixed(`public IPv4 addresses (${eips})`, eips * p.publicIpv4Hour * hours);
  const volumes = byType(stack, 'aws_ebs_volume').reduce((sum, [, v]) => sum + num(v.size), 0);
  fixed(`EBS volumes (${volumes} GB)`, volumes * p.ebsGp3GbMonth);
  const rules = byType(stack, 'aws_s3_bucket_replication_configuration').flatMap(([, c]) => asList(c.rule));
  const replication = rules.reduce((sum, r) => {
    const rtc = (asList((r.destination as Res | undefined)?.replication_time)[0]?.status ?? '') === 'Enabled';
    return sum + prices.replicatedGbPerRuleMonth * (p.interRegionGb + (rtc ? p.s3ReplicationTimeControlGb : 0));
  }, 0);
  fixed(`cross-region replication (${rules.length} rule(s) × ${prices.replicatedGbPerRuleMonth} GB/month assumed)`, replication);
  const sum = (k: 'min' | 'max') => lines.reduce((s, l) => s + l[k], 0);
  return { region, lines, min: sum('min'), max: sum('max'), unpriced };
}

function dollars(n: number): string {
  const sign = n < 0 ? '−' : '+';
  return `${sign}$${Math.abs(n).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

function plain(n: number): string {
  return `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** "+$X / month at minimum size, up to +$Y at maximum", and the lines that changed. */
export function renderCostDelta(cluster: string, base: CostEstimate, head: CostEstimate, prices: PriceTable = PRICE_TABLE): string {
  const dMin = head.min - base.min;
  const dMax = head.max - base.max;
  const title = `#### Monthly cost: \`${cluster}\``;
  const headline = `**${dollars(dMin)} / month at minimum size, up to ${dollars(dMax)} at maximum** (now ${plain(head.min)}–${plain(head.max)} / month in ${head.region}).`;
  const items = [...new Set([...base.lines, ...head.lines].map((l) => l.item.replace(/ \(.*$/, '')))];
  const rows = items.flatMap((item) => {
    const find = (e: CostEstimate) => e.lines.find((l) => l.item.replace(/ \(.*$/, '') === item);
    const b = find(base);
    const h = find(head);
    if (b && h && Math.abs(b.min - h.min) < 0.005 && Math.abs(b.max - h.max) < 0.005 && b.item === h.item) return [];
    return [[h?.item ?? b?.item ?? item, b ? `${plain(b.min)}–${plain(b.max)}` : '—', h ? `${plain(h.min)}–${plain(h.max)}` : '—', `${dollars((h?.min ?? 0) - (b?.min ?? 0))} to ${dollars((h?.max ?? 0) - (b?.max ?? 0))}`]];
  });
  const unpriced = [...new Set([...base.unpriced, ...head.unpriced])];
  return [
    title,
    headline,
    rows.length > 0 ? table(['item', 'merge base', 'this commit', 'change / month'], rows) : 'No priced item changed.',
    unpriced.length > 0 ? `⚠️ Not priced: ${unpriced.join('; ')}.` : '',
    `<sub>List prices of ${prices.date} (\`packages/pipeline/src/pull-request/price-table.ts\`; ${prices.verification.verified ? 'checked' : 'NOT checked'}: ${prices.verification.how}), ${prices.hoursPerMonth} h/month, spot at ${Math.round(prices.spotToOnDemandRatio * 100)} % of on-demand; traffic and load balancer capacity units not included.</sub>`,
  ]
    .filter(Boolean)
    .join('\n\n');
}
