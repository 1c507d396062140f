import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { Construct } from 'constructs';
import { invalidProp } from './private/validation';

export interface ClusterKeyProps {
  /** `alias/<...>` */
  readonly aliasName: string;
  readonly description: string;
  /** @default 30 */
  readonly deletionWindowInDays?: number;
}

/**
 * The cluster's customer-managed key (join material, etcd snapshots). Rotated yearly and
 * protected from destroy: deleting it makes every backup unreadable. No explicit key policy:
 * AWS's default delegates to IAM, so the role policies are the single place of access.
 */
export class ClusterKey extends Construct {
  readonly keyArn: string;
  readonly keyId: string;

  constructor(scope: Construct, id: string, props: ClusterKeyProps) {
    super(scope, id);
    if (!props.aliasName.startsWith('alias/')) throw invalidProp('ClusterKey', 'aliasName', props.aliasName, 'a name starting with "alias/"');
    const window = props.deletionWindowInDays ?? 30;
    if (!Number.isInteger(window) || window < 7 || window > 30) throw invalidProp('ClusterKey', 'deletionWindowInDays', window, '7 to 30 days');
    const key = new KmsKey(this, 'key', { description: props.description, enableKeyRotation: true, deletionWindowInDays: window, lifecycle: { preventDestroy: true } });
    new KmsAlias(this, 'alias', { name: props.aliasName, targetKeyId: key.keyId });
    this.keyArn = key.arn;
    this.keyId = key.keyId;
  }
}
