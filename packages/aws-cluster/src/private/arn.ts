import { Fn } from 'cdktf';

/**
 * The account id taken from an ARN this stack creates: synth and plan need no AWS call
 * (a caller-identity data source would), yet policies name the exact account.
 */
export function accountIdOf(arn: string): string {
  return Fn.element(Fn.split(':', arn), 4);
}
