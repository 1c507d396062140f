/** Where nodes of one AZ go. */
export interface NodeZone {
  readonly availabilityZone: string;
  readonly subnetId: string;
}
