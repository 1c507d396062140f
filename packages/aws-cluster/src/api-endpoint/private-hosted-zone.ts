import { Route53Zone } from '@cdktf/provider-aws/lib/route53-zone';
import { Construct } from 'constructs';
import { invalidProp } from '../private/validation';
import { DNS_NAME } from './api-endpoint';

export interface PrivateHostedZoneProps {
  /** Fully qualified zone name, e.g. platform-config's `names.apiInternal.zone`. */
  readonly zoneName: string;
  /** The VPC whose resolver answers for the zone (it needs DNS support and DNS hostnames on). */
  readonly vpcId: string;
}

/**
 * A Route 53 private hosted zone associated with one VPC: only that VPC's resolver
 * (169.254.169.253, the VPC CIDR base + 2) answers for it; public DNS never sees its names.
 */
export class PrivateHostedZone extends Construct {
  readonly zoneId: string;
  readonly zoneName: string;

  constructor(scope: Construct, id: string, props: PrivateHostedZoneProps) {
    super(scope, id);
    if (!DNS_NAME.test(props.zoneName)) {
      throw invalidProp('PrivateHostedZone', 'zoneName', props.zoneName, 'a fully qualified DNS name such as cluster.example.internal: lowercase labels of at most 63 characters, no final dot');
    }
    const zone = new Route53Zone(this, 'zone', {
      name: props.zoneName,
      comment: 'In-cluster Kubernetes API endpoint (private)',
      vpc: [{ vpcId: props.vpcId }],
    });
    this.zoneId = zone.zoneId;
    this.zoneName = props.zoneName;
  }
}
