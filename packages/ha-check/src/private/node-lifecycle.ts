import type { InfraModel, NodeGroupModel } from '../model';

/**
 * How long the Node objects of a lost AZ stay registered: until the instances are terminated and
 * the cloud controller's node lifecycle controller, polling every `--node-monitor-period`, finds
 * them gone from EC2 and deletes the Nodes. Until then a spread constraint with
 * `nodeTaintsPolicy: Ignore` still counts their zone as a domain with 0 pods.
 */
export const NODE_DELETION_DEFAULTS = {
  /** EC2 runs instance status checks every minute; an ASG with `health_check_type = EC2` acts on the first impaired one. */
  ec2StatusCheckSeconds: 60,
  /** From TerminateInstances to `terminated` (the cloud controller treats `shutting-down` as existing). */
  terminationSeconds: 60,
  /** aws-cloud-controller-manager `--node-monitor-period` default. */
  cloudNodeMonitorSeconds: 5,
} as const;

/**
 * Seconds until the lost AZ's Node objects are deleted: the slowest of its ASGs to find its
 * instances unhealthy (ELB health check: its target group's interval × unhealthy threshold; EC2:
 * a status check period), then termination and the cloud controller's monitor period. null: no
 * cloud controller deletes Nodes, or no ASG replaces the instances (they stay until the AZ returns).
 */
export function nodeDeletionSeconds(infra: InfraModel, groups: readonly NodeGroupModel[], cloudController: boolean): { seconds: number | null; terms: string } {
  if (!cloudController) return { seconds: null, terms: 'no cloud controller: nothing deletes the Node objects of terminated instances' };
  const tgs = new Map(infra.loadBalancers.flatMap((lb) => lb.targetGroups).map((t) => [t.address, t]));
  let detect = 0;
  let how = '';
  for (const g of groups) {
    const tg = g.healthCheckType === 'ELB' ? g.targetGroups.map((a) => tgs.get(a)).find((t) => t !== undefined) : undefined;
    const seconds = tg ? tg.healthCheck.intervalSeconds * tg.healthCheck.unhealthyThreshold : NODE_DELETION_DEFAULTS.ec2StatusCheckSeconds;
    if (seconds >= detect) {
      detect = seconds;
      how = tg ? `ELB health check ${tg.healthCheck.intervalSeconds} s × ${tg.healthCheck.unhealthyThreshold}` : 'EC2 status check 60 s';
    }
  }
  const { terminationSeconds: term, cloudNodeMonitorSeconds: monitor } = NODE_DELETION_DEFAULTS;
  return { seconds: detect + term + monitor, terms: `${detect + term + monitor} s = ${how} + termination ${term} s + cloud controller monitor period ${monitor} s` };
}
