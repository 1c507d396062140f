import { Fn, TerraformLocal } from 'cdktf';
import type { Construct } from 'constructs';

/**
 * The account id taken from an ARN this stack creates: synth and plan need no AWS call
 * (a caller-identity data source would), yet policies name the exact account. Kept in a
 * local so policies embed `${local.account_id}`, whose JSON stays parseable before apply.
 */
export function accountIdOf(scope: Construct, arn: string): string {
  return new TerraformLocal(scope, 'account_id', Fn.element(Fn.split(':', arn), 4)).asString;
}
