/**
 * AWS list prices (USD, Linux on-demand, no savings plan) for the regions the platform uses,
 * as committed data: the cost estimate never calls a pricing API. `date` says when they were
 * read; refresh them from the AWS price list (EC2, VPC NAT gateway, Elastic Load Balancing,
 * EBS, data transfer, S3 replication) and change the date with them. A region or instance
 * type missing here makes the estimate say so instead of guessing.
 */
export interface RegionPrices {
  /** USD per instance-hour, on demand. */
  readonly instanceHour: Readonly<Record<string, number>>;
  readonly natGatewayHour: number;
  /** Network/application load balancer hour (capacity units are usage, not estimated). */
  readonly loadBalancerHour: number;
  /** Public IPv4 address hour (every Elastic IP, attached or not). */
  readonly publicIpv4Hour: number;
  /** gp3 GB-month (baseline IOPS and throughput included). */
  readonly ebsGp3GbMonth: number;
  /** Inter-region data transfer out, per GB. */
  readonly interRegionGb: number;
  /** S3 Replication Time Control, per GB replicated. */
  readonly s3ReplicationTimeControlGb: number;
}

export interface PriceTable {
  /** When the prices were read (ISO date). */
  readonly date: string;
  /**
   * Whether each figure was checked against the AWS price list, and how. Shown under every
   * cost section, so nobody budgets with an unchecked figure.
   */
  readonly verification: { readonly verified: boolean; readonly how: string };
  readonly currency: 'USD';
  readonly hoursPerMonth: number;
  /** Spot capacity is priced at this share of on-demand (spot prices move; a planning figure). */
  readonly spotToOnDemandRatio: number;
  /** GB replicated to another region per replication rule and month (usage; a planning figure). */
  readonly replicatedGbPerRuleMonth: number;
  readonly regions: Readonly<Record<string, RegionPrices>>;
}

export const PRICE_TABLE: PriceTable = {
  date: '2025-06-01',
  // Not one figure below has been checked against the AWS price list (Price List API or the
  // pricing pages) in this repository's history: a session on 2026-12-05 could not reach
  // either from its sandbox and left them as typed. Verify each before relying on the totals.
  verification: { verified: false, how: 'typed in, never compared with the AWS price list; planning figures only' },
  currency: 'USD',
  hoursPerMonth: 730,
  spotToOnDemandRatio: 0.35,
  replicatedGbPerRuleMonth: 50,
  regions: {
    // Asia Pacific (Seoul): production, staging, the state bucket.
    'ap-northeast-2': {
      instanceHour: {
        't3.medium': 0.052,
        't3.large': 0.104,
        'm6i.large': 0.118,
        'm6i.xlarge': 0.236,
        'm7i.large': 0.1239,
        'm7i.xlarge': 0.2478,
        'c6i.xlarge': 0.192,
        'c7i.xlarge': 0.2016,
      },
      natGatewayHour: 0.059,
      loadBalancerHour: 0.0225,
      publicIpv4Hour: 0.005,
      ebsGp3GbMonth: 0.0912,
      interRegionGb: 0.08,
      s3ReplicationTimeControlGb: 0.015,
    },
    // Asia Pacific (Tokyo): dr.
    'ap-northeast-1': {
      instanceHour: {
        't3.medium': 0.0544,
        't3.large': 0.1088,
        'm6i.large': 0.124,
        'm6i.xlarge': 0.248,
        'm7i.large': 0.1302,
        'm7i.xlarge': 0.2604,
        'c6i.xlarge': 0.214,
        'c7i.xlarge': 0.2247,
      },
      natGatewayHour: 0.062,
      loadBalancerHour: 0.0243,
      publicIpv4Hour: 0.005,
      ebsGp3GbMonth: 0.096,
      interRegionGb: 0.09,
      s3ReplicationTimeControlGb: 0.015,
    },
  },
};
