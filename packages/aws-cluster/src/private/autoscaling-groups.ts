import { AutoscalingGroup } from '@cdktf/provider-aws/lib/autoscaling-group';
import type { Construct } from 'constructs';

/**
 * The Auto Scaling groups inside a construct (a control plane, a worker pool): their literal
 * names and a reference to each, so a resource that names a group (a lifecycle hook) is created
 * after it without the owning construct exposing provider classes.
 */
export function autoscalingGroupsIn(scope: Construct): { readonly literalName: string; readonly reference: string }[] {
  return scope.node
    .findAll()
    .filter((c): c is AutoscalingGroup => c instanceof AutoscalingGroup)
    .map((asg) => {
      const literalName = asg.nameInput;
      if (!literalName) throw new Error(`autoscalingGroupsIn: ${asg.node.path} has no name; node groups are named by platform-config`);
      return { literalName, reference: asg.name };
    });
}
