import { isObject, type Json } from './values';

/** One IAM policy statement, normalized (strings or lists → lists). */
export interface Statement {
  readonly effect: 'Allow' | 'Deny';
  readonly actions: readonly string[] | undefined;
  readonly notActions: readonly string[] | undefined;
  readonly resources: readonly string[] | undefined;
  readonly notResources: readonly string[] | undefined;
  readonly condition: Json;
  /** `Principal` as written (trust and resource policies; `*`, or `{ AWS | Service | Federated: ... }`). */
  readonly principal: unknown;
  /** Where it came from (policy name or managed policy ARN). */
  readonly source: string;
}

/** A request IAM evaluates: action, resource ARN and the condition keys of the request context. */
export interface Request {
  readonly action: string;
  readonly resource: string;
  readonly context: Readonly<Record<string, string>>;
}

const asList = (v: unknown): string[] | undefined => (v === undefined ? undefined : (Array.isArray(v) ? v : [v]).map(String));

/** IAM wildcard matching: `*` any run of characters, `?` one; actions case-insensitively. */
export function wildcardMatch(pattern: string, value: string, caseInsensitive = false): boolean {
  const p = caseInsensitive ? pattern.toLowerCase() : pattern;
  const v = caseInsensitive ? value.toLowerCase() : value;
  const re = new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
  return re.test(v);
}

export function statementsOf(document: unknown, source: string): Statement[] {
  let doc = document;
  if (typeof doc === 'string') {
    try {
      doc = JSON.parse(doc);
    } catch {
      return [];
    }
  }
  if (!isObject(doc)) return [];
  const raw = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  return raw.filter(isObject).map((s) => ({
    effect: s.Effect === 'Deny' ? 'Deny' : 'Allow',
    actions: asList(s.Action),
    notActions: asList(s.NotAction),
    resources: asList(s.Resource),
    notResources: asList(s.NotResource),
    condition: isObject(s.Condition) ? s.Condition : {},
    principal: s.Principal,
    source,
  }));
}

/**
 * Condition operators ha-check evaluates (the string and ARN families, with `IfExists`); a key the
 * request does not carry fails a positive operator and passes a negated one (AWS's rule), and
 * `IfExists` passes when the key is absent. ForAnyValue/ForAllValues and other operators: not
 * matched (conservatively false for an Allow, so an unknown condition never grants).
 */
export function conditionHolds(condition: Json, context: Readonly<Record<string, string>>): boolean {
  for (const [rawOp, block] of Object.entries(condition)) {
    if (!isObject(block)) return false;
    const ifExists = rawOp.endsWith('IfExists');
    const op = ifExists ? rawOp.slice(0, -'IfExists'.length) : rawOp;
    for (const [key, expected] of Object.entries(block)) {
      const values = asList(expected) ?? [];
      const actual = Object.entries(context).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];
      if (actual === undefined) {
        if (ifExists || /Not/.test(op)) continue;
        return false;
      }
      const like = (p: string): boolean => wildcardMatch(p, actual);
      const ok =
        op === 'StringEquals' || op === 'ArnEquals'
          ? values.includes(actual)
          : op === 'StringEqualsIgnoreCase'
            ? values.some((x) => x.toLowerCase() === actual.toLowerCase())
            : op === 'StringLike' || op === 'ArnLike'
              ? values.some(like)
              : op === 'StringNotEquals' || op === 'ArnNotEquals'
                ? !values.includes(actual)
                : op === 'StringNotLike' || op === 'ArnNotLike'
                  ? !values.some(like)
                  : undefined;
      if (ok !== true) return false;
    }
  }
  return true;
}

function statementMatches(s: Statement, r: Request): boolean {
  const actionOk = s.actions ? s.actions.some((a) => wildcardMatch(a, r.action, true)) : !(s.notActions ?? []).some((a) => wildcardMatch(a, r.action, true));
  if (!actionOk) return false;
  const resourceOk = s.resources ? s.resources.some((p) => wildcardMatch(p, r.resource)) : !(s.notResources ?? []).some((p) => wildcardMatch(p, r.resource));
  return resourceOk && conditionHolds(s.condition, r.context);
}

/** IAM's identity-policy evaluation: allowed when some Allow matches and no Deny does (an explicit Deny wins). */
export function allowed(statements: readonly Statement[], r: Request): { allowed: boolean; by: string | undefined } {
  if (statements.some((s) => s.effect === 'Deny' && statementMatches(s, r))) return { allowed: false, by: undefined };
  const allow = statements.find((s) => s.effect === 'Allow' && statementMatches(s, r));
  return { allowed: allow !== undefined, by: allow?.source };
}

/**
 * AWS managed policies ha-check knows, as statements. ReadOnlyAccess is modelled by its verbs
 * (Get, List, Describe, ... on every service: it includes ssm:GetParameter and s3:GetObject, not
 * kms:Decrypt); an unknown managed policy grants nothing ha-check can prove (reported).
 */
export function managedPolicy(arn: string): Statement[] | undefined {
  const name = arn.slice(arn.lastIndexOf('/') + 1);
  const allow = (actions: string[], notActions?: string[]): Statement[] => [{ effect: 'Allow', actions: notActions ? undefined : actions, notActions, resources: ['*'], notResources: undefined, condition: {}, principal: undefined, source: arn }];
  if (name === 'AdministratorAccess') return allow(['*']);
  if (name === 'PowerUserAccess') return allow([], ['iam:*', 'organizations:*', 'account:*']);
  if (name === 'ReadOnlyAccess' || name === 'ViewOnlyAccess') return allow(['*:Get*', '*:List*', '*:Describe*', '*:BatchGet*', '*:Lookup*', '*:Search*', '*:Select*', '*:Scan', '*:Query']);
  return undefined;
}
