import { beforeAll, describe, expect, it } from 'vitest';
import { defaultPlatform, platformInput } from '@platform/platform-config';
import { estimateStackCost, onDemandCount, renderCostDelta } from '../src/pull-request/cost';
import { PRICE_TABLE } from '../src/pull-request/price-table';
import { diffSynthesized, MASK, renderSynthesizedChange, type SynthesizedStack } from '../src/pull-request/synth-diff';
import { synthInfraStacks } from './support/infra-synth';

/**
 * The synthesized-change and cost sections on real synths: the shipped platform, and the same
 * with production's `general` worker pool grown by one instance per AZ at the minimum and two
 * at the maximum (what a reviewer changes in platform-config).
 */

const platform = defaultPlatform();
const CLUSTER = 'production';
const stack = platform.namesOf(CLUSTER).stack;
const region = platform.cluster(CLUSTER).region;
const zones = platform.cluster(CLUSTER).availabilityZones.length;

describe('a worker pool change, synthesized at base and head', () => {
  let base: SynthesizedStack;
  let head: SynthesizedStack;
  const general = platform.cluster(CLUSTER).workerPools.find((p) => p.name === 'general')!;

  beforeAll(() => {
    base = synthInfraStacks()(stack) as SynthesizedStack;
    const grown = {
      ...platformInput,
      clusters: platformInput.clusters.map((c) => (c.name !== CLUSTER ? c : { ...c, workerPools: c.workerPools.map((p) => (p.name === 'general' ? { ...p, minPerAz: general.minPerAz + 1, maxPerAz: general.maxPerAz + 2 } : p)) })),
    };
    head = synthInfraStacks(grown)(stack) as SynthesizedStack;
  }, 240_000);

  it('shows each changed Auto Scaling group with min_size and max_size old → new, and nothing else', () => {
    const diff = diffSynthesized(base, head);
    expect(diff.map((d) => d.change)).toEqual(Array(zones).fill('changed'));
    for (const d of diff) {
      expect(d.address).toMatch(/^aws_autoscaling_group\.workers-general_asg-[a-z]_/);
      expect(d.attributes).toEqual([
        { path: 'max_size', before: String(general.maxPerAz), after: String(general.maxPerAz + 2) },
        { path: 'min_size', before: String(general.minPerAz), after: String(general.minPerAz + 1) },
      ]);
    }
    const section = renderSynthesizedChange(diff);
    expect(section).toContain(`**0 added, ${zones} changed, 0 removed** resources`);
    expect(section).toContain(`| \`min_size\` | ${general.minPerAz} | ${general.minPerAz + 1} |`);
  });

  it('prices the change: one more instance and its volume per AZ at minimum, two at maximum', () => {
    const before = estimateStackCost(base, region);
    const after = estimateStackCost(head, region);
    expect(before.unpriced).toEqual([]);
    const p = PRICE_TABLE.regions[region];
    const lt = Object.values(head.resource?.aws_launch_template ?? {}).find((t) => JSON.stringify(t).includes('production-general'))!;
    const gb = (lt.block_device_mappings as { ebs: { volume_size: number } }[])[0].ebs.volume_size;
    const perInstance = p.instanceHour[general.instanceTypes[0]] * PRICE_TABLE.hoursPerMonth + gb * p.ebsGp3GbMonth;
    expect(after.min - before.min).toBeCloseTo(zones * 1 * perInstance, 6);
    expect(after.max - before.max).toBeCloseTo(zones * 2 * perInstance, 6);
    const money = (n: number) => `+$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
    expect(renderCostDelta(CLUSTER, before, after)).toContain(`**${money(zones * perInstance)} / month at minimum size, up to ${money(zones * 2 * perInstance)} at maximum**`);
    // The prices' provenance is under every cost section: these were never checked against AWS.
    expect(PRICE_TABLE.verification.verified).toBe(false);
    expect(renderCostDelta(CLUSTER, before, after)).toContain(`List prices of ${PRICE_TABLE.date} (\`packages/pipeline/src/pull-request/price-table.ts\`; NOT checked: typed in, never compared with the AWS price list; planning figures only)`);
  });

  it('counts the fixed costs of the cluster: a NAT gateway per AZ, the load balancers, replication', () => {
    const items = estimateStackCost(base, region).lines.map((l) => l.item);
    expect(items).toContain(`NAT gateways (${zones})`);
    expect(items.some((i) => i.startsWith('load balancers ('))).toBe(true);
    expect(items.some((i) => i.startsWith('cross-region replication ('))).toBe(true);
  });
});

describe('synthesized change details', () => {
  it('masks secret-like values and SSM parameter values, and compares JSON policies by content', () => {
    const before: SynthesizedStack = {
      resource: {
        aws_ssm_parameter: { join: { name: '/p/join', value: 'old-token', type: 'SecureString' } },
        aws_iam_role_policy: { p: { policy: JSON.stringify({ Statement: [{ Action: 's3:GetObject' }] }) } },
        aws_autoscaling_group: { g: { tag: [{ key: 'Name', value: 'a' }] } },
      },
    };
    const after: SynthesizedStack = {
      resource: {
        aws_ssm_parameter: { join: { name: '/p/join', value: 'new-token', type: 'SecureString' } },
        aws_iam_role_policy: { p: { policy: JSON.stringify({ Statement: [{ Action: 's3:PutObject' }] }) } },
        aws_autoscaling_group: { g: { tag: [{ key: 'Name', value: 'b' }] } },
        aws_launch_template: { t: { user_data: 'c2VjcmV0' } },
      },
    };
    const diff = diffSynthesized(before, after);
    expect(diff).toEqual([
      { address: 'aws_autoscaling_group.g', change: 'changed', attributes: [{ path: 'tag[0].value', before: 'a', after: 'b' }] },
      { address: 'aws_iam_role_policy.p', change: 'changed', attributes: [{ path: 'policy.Statement[0].Action', before: 's3:GetObject', after: 's3:PutObject' }] },
      { address: 'aws_launch_template.t', change: 'added', attributes: [] },
      { address: 'aws_ssm_parameter.join', change: 'changed', attributes: [{ path: 'value', before: MASK, after: MASK }] },
    ]);
    expect(JSON.stringify(diff)).not.toContain('token');
  });

  it('runs spot above the on-demand base by the percentage, as Auto Scaling does', () => {
    expect(onDemandCount(10, { on_demand_base_capacity: 0, on_demand_percentage_above_base_capacity: 30 })).toBe(3);
    expect(onDemandCount(10, { on_demand_base_capacity: 2, on_demand_percentage_above_base_capacity: 0 })).toBe(2);
    expect(onDemandCount(4, undefined)).toBe(4);
  });
});
