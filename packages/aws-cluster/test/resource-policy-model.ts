import type { Attributes } from './support';

/**
 * A resource-based policy (SQS queue policy, KMS key policy) evaluated the way AWS does for one
 * request: an explicit Deny that matches wins; otherwise an Allow must match principal, action,
 * resource and every condition; otherwise the request is implicitly denied. Only the condition
 * operators these stacks use are known: any other throws, so a new one cannot pass unexamined.
 */
export interface PolicyRequest {
  /** `{ Service: 'events.amazonaws.com' }` or `{ AWS: '<role ARN>' }`. */
  readonly principal: { readonly Service?: string; readonly AWS?: string };
  readonly action: string;
  readonly resource: string;
  /** Request context keys (`aws:SourceArn`, `aws:SecureTransport`, ...), as strings. */
  readonly context: Readonly<Record<string, string>>;
}

const list = (value: unknown): string[] => (value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)]);
/** IAM wildcards: `*` any run, `?` one character; actions compare case-insensitively, ARNs exactly. */
function wildcard(pattern: string, value: string, caseInsensitive: boolean): boolean {
  const source = [...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`, caseInsensitive ? 'i' : '').test(value);
}

function principalMatches(principal: Attributes | string | undefined, request: PolicyRequest): boolean {
  if (principal === '*') return true;
  if (!principal || typeof principal !== 'object') return false;
  if (request.principal.Service && list(principal.Service).includes(request.principal.Service)) return true;
  if (request.principal.AWS && list(principal.AWS).some((p) => p === '*' || p === request.principal.AWS)) return true;
  // `{ AWS: '*' }` matches any principal, services included.
  return list(principal.AWS).includes('*');
}

function conditionMatches(condition: Attributes | undefined, context: PolicyRequest['context']): boolean {
  for (const [operator, entries] of Object.entries(condition ?? {})) {
    for (const [key, expected] of Object.entries(entries as Attributes)) {
      const actual = context[key];
      const values = list(expected);
      let ok: boolean;
      switch (operator) {
        case 'StringEquals':
        case 'ArnEquals':
          ok = actual !== undefined && values.includes(actual);
          break;
        case 'StringLike':
        case 'ArnLike':
          ok = actual !== undefined && values.some((v) => wildcard(v, actual, false));
          break;
        // Negated operators match a request without the key (IAM: "...IfExists" is implied for them).
        case 'StringNotEquals':
        case 'ArnNotEquals':
          ok = actual === undefined || !values.includes(actual);
          break;
        case 'StringNotLike':
        case 'ArnNotLike':
          ok = actual === undefined || !values.some((v) => wildcard(v, actual, false));
          break;
        case 'Bool':
          ok = actual !== undefined && values.map((v) => v.toLowerCase()).includes(actual.toLowerCase());
          break;
        default:
          throw new Error(`resource-policy-model: condition operator ${operator} is not modelled`);
      }
      if (!ok) return false;
    }
  }
  return true;
}

function statementMatches(statement: Attributes, request: PolicyRequest): boolean {
  return (
    principalMatches(statement.Principal, request) &&
    list(statement.Action).some((a) => wildcard(a, request.action, true)) &&
    list(statement.Resource).some((r) => wildcard(r, request.resource, false)) &&
    conditionMatches(statement.Condition, request.context)
  );
}

export function evaluateResourcePolicy(policy: Attributes, request: PolicyRequest): 'allowed' | 'explicit-deny' | 'implicit-deny' {
  const statements: Attributes[] = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
  if (statements.some((s) => s.Effect === 'Deny' && statementMatches(s, request))) return 'explicit-deny';
  return statements.some((s) => s.Effect === 'Allow' && statementMatches(s, request)) ? 'allowed' : 'implicit-deny';
}
