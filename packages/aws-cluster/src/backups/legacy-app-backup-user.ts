import { IamUser } from '@cdktf/provider-aws/lib/iam-user';
import { IamUserPolicy } from '@cdktf/provider-aws/lib/iam-user-policy';
import { Construct } from 'constructs';
import { renderPolicy, type PolicyDocument } from '../iam/policy-document';
import { invalidProp } from '../private/validation';

export interface LegacyAppBackupUserProps {
  /** platform-config `legacyBackupCredentials(cluster).iamUser`: the user's existing name. */
  readonly userName: string;
  /** What the database may do on AWS: the `postgres-backups` workload role's document, so the two never differ. */
  readonly policy: PolicyDocument;
}

/**
 * The IAM user the database backups used before IRSA, kept for a cluster that ran before it until
 * its `serviceAccountIdentity` is complete. Declared again (the code had dropped it) so that an
 * apply of the first stages finds it in state and leaves it, instead of deleting it, and with it the
 * WAL archiving of a database still on its access key. Create it with the construct id it had,
 * `app-backup-user` (children `user`, `policy`), so the Terraform addresses match the state.
 * Terraform never creates an access key: the operator's key stays outside the state.
 */
export class LegacyAppBackupUser extends Construct {
  readonly userName: string;

  constructor(scope: Construct, id: string, props: LegacyAppBackupUserProps) {
    super(scope, id);
    if (!/^[A-Za-z0-9+=,.@_-]{1,64}$/.test(props.userName)) throw invalidProp('LegacyAppBackupUser', 'userName', props.userName, 'an IAM user name: 1 to 64 letters, digits or +=,.@_-');
    const user = new IamUser(this, 'user', { name: props.userName });
    new IamUserPolicy(this, 'policy', { name: 'app-backups', user: user.name, policy: renderPolicy(props.policy) });
    this.userName = user.name;
  }
}
