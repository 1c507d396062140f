import type { TerraformIndex, TfResource } from '../terraform';
import { managedPolicy, statementsOf, type Statement } from './iam';
import { iamRole, rolePolicy } from './tf-accessors';

/** A policy resource naming `role` (a reference to it, or its literal name). */
function names(index: TerraformIndex, from: TfResource, ref: unknown, role: TfResource): boolean {
  const name = iamRole(role).name;
  return index.resolve(from, ref)?.address === role.address || (name !== undefined && ref === name);
}

/**
 * Everything a role's identity policies say: its inline blocks, `aws_iam_role_policy`, and
 * attached customer (in the stack) or AWS managed policies. An attached policy ha-check cannot
 * read is listed in `unknown` (it may grant anything; never assumed empty in silence).
 */
export function roleStatements(index: TerraformIndex, role: TfResource): { statements: Statement[]; unknown: string[] } {
  const statements: Statement[] = [];
  const unknown: string[] = [];
  for (const inline of iamRole(role).inlinePolicies) statements.push(...statementsOf(inline.policy, inline.name ?? 'inline'));
  for (const p of index.byType('aws_iam_role_policy')) {
    const v = rolePolicy(p);
    if (names(index, p, v.role, role)) statements.push(...statementsOf(v.policy, v.name ?? p.address));
  }
  for (const a of index.byType('aws_iam_role_policy_attachment')) {
    const v = rolePolicy(a);
    if (!names(index, a, v.role, role)) continue;
    const local = index.resolve(a, v.policyArn);
    if (local) statements.push(...statementsOf(rolePolicy(local).policy, local.address));
    else {
      const managed = managedPolicy(String(v.policyArn));
      if (managed) statements.push(...managed);
      else unknown.push(String(v.policyArn));
    }
  }
  return { statements, unknown };
}
