import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { Construct } from 'constructs';
import { invalidProp } from '../private/validation';
import { renderPolicy, serviceTrustPolicy, type PolicyDocument } from './policy-document';

export interface NodeRoleProps {
  readonly roleName: string;
  readonly instanceProfileName: string;
  /** Inline policies by name: they live and die with the role, one per concern. */
  readonly policies: Readonly<Record<string, PolicyDocument>>;
}

/** An EC2 instance role and its instance profile. */
export class NodeRole extends Construct {
  readonly roleArn: string;
  readonly roleName: string;
  readonly instanceProfileName: string;
  private readonly role: IamRole;

  constructor(scope: Construct, id: string, props: NodeRoleProps) {
    super(scope, id);
    if (Object.keys(props.policies).length === 0) throw invalidProp('NodeRole', 'policies', props.policies, 'at least one policy');
    const role = new IamRole(this, 'role', { name: props.roleName, assumeRolePolicy: renderPolicy(serviceTrustPolicy('ec2.amazonaws.com')) });
    this.role = role;
    for (const [name, document] of Object.entries(props.policies)) this.addPolicy(name, document);
    const profile = new IamInstanceProfile(this, 'instance-profile', { name: props.instanceProfileName, role: role.name });
    this.roleArn = role.arn;
    this.roleName = role.name;
    this.instanceProfileName = profile.name;
  }

  /** One more inline policy, named `name` (construct id `policy-<name>`, as those given at construction). */
  addPolicy(name: string, document: PolicyDocument): void {
    new IamRolePolicy(this, `policy-${name}`, { name, role: this.role.name, policy: renderPolicy(document) });
  }
}
