/*
 * IAM policy evaluation as AWS documents it, for the policies the synthesized stacks carry:
 * an explicit Deny wins, otherwise any Allow, otherwise the implicit deny. Action names match
 * case-insensitively with `*` and `?`, resources case-sensitively; NotAction / NotResource
 * invert the match; every condition operator of a statement must hold (values of one key are
 * ORed). A key missing from the request fails a positive operator and satisfies a negated one
 * (StringNotLike, ArnNotEquals …), `…IfExists` is satisfied by a missing key, and `Null` tests
 * presence. An operator this model does not know throws: a policy is never judged by a guess.
 */

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Statement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly NotResource?: string | readonly string[];
  readonly Principal?: '*' | Json;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/** One API call as IAM sees it: the action, the resource's ARN and the request context keys. */
export interface Request {
  readonly action: string;
  readonly resource: string;
  readonly context?: Readonly<Record<string, string>>;
}

export type Decision = 'allow' | 'deny' | 'implicit-deny';

const list = (value: unknown): string[] => (value === undefined ? [] : [value].flat().map(String));

/** IAM's wildcard match: `*` any run of characters, `?` exactly one. */
export function wildcard(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(value);
}

type Test = (pattern: string, value: string) => boolean;
const OPERATORS: Record<string, { test: Test; negated: boolean }> = {
  StringEquals: { test: (p, v) => p === v, negated: false },
  StringNotEquals: { test: (p, v) => p === v, negated: true },
  StringEqualsIgnoreCase: { test: (p, v) => p.toLowerCase() === v.toLowerCase(), negated: false },
  StringNotEqualsIgnoreCase: { test: (p, v) => p.toLowerCase() === v.toLowerCase(), negated: true },
  StringLike: { test: (p, v) => wildcard(p, v), negated: false },
  StringNotLike: { test: (p, v) => wildcard(p, v), negated: true },
  ArnEquals: { test: (p, v) => wildcard(p, v), negated: false },
  ArnLike: { test: (p, v) => wildcard(p, v), negated: false },
  ArnNotEquals: { test: (p, v) => wildcard(p, v), negated: true },
  ArnNotLike: { test: (p, v) => wildcard(p, v), negated: true },
  Bool: { test: (p, v) => p.toLowerCase() === v.toLowerCase(), negated: false },
};

function conditionHolds(operator: string, entries: Record<string, unknown>, context: Readonly<Record<string, string>>): boolean {
  const lookup = (key: string) => Object.entries(context).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];
  if (operator === 'Null') return Object.entries(entries).every(([key, want]) => (lookup(key) === undefined) === (String(want) === 'true'));
  // Every context value here is single-valued: ForAnyValue is the plain operator, ForAllValues
  // holds for a missing key (the empty set) and otherwise is the plain operator too.
  const [, set, base] = /^(ForAnyValue:|ForAllValues:)?(.*)$/.exec(operator)!;
  const ifExists = base.endsWith('IfExists');
  const name = ifExists ? base.slice(0, -'IfExists'.length) : base;
  const op = OPERATORS[name];
  if (!op) throw new Error(`iam-model: condition operator ${operator} is not modelled`);
  return Object.entries(entries).every(([key, patterns]) => {
    const value = lookup(key);
    if (value === undefined) return ifExists || op.negated || set === 'ForAllValues:';
    const any = list(patterns).some((p) => op.test(p, value));
    return op.negated ? !any : any;
  });
}

/** Whether one statement applies to the request (principal not considered: see `principalMatches`). */
export function statementApplies(statement: Statement, request: Request): boolean {
  const actionHit = (patterns: unknown) => list(patterns).some((p) => wildcard(p, request.action, true));
  const resourceHit = (patterns: unknown) => list(patterns).some((p) => wildcard(p, request.resource));
  if (statement.Action !== undefined ? !actionHit(statement.Action) : statement.NotAction === undefined || actionHit(statement.NotAction)) return false;
  if (statement.Resource !== undefined ? !resourceHit(statement.Resource) : statement.NotResource !== undefined && resourceHit(statement.NotResource)) return false;
  const context = request.context ?? {};
  return Object.entries(statement.Condition ?? {}).every(([operator, entries]) => conditionHolds(operator, entries, context));
}

export function evaluate(statements: readonly Statement[], request: Request): Decision {
  const applying = statements.filter((s) => statementApplies(s, request));
  if (applying.some((s) => s.Effect === 'Deny')) return 'deny';
  return applying.some((s) => s.Effect === 'Allow') ? 'allow' : 'implicit-deny';
}

/** Whether a resource policy statement names this principal (an IAM role ARN in `account`). */
export function principalMatches(statement: Statement, roleArn: string, account: string): boolean {
  const principal = statement.Principal;
  if (principal === undefined) return false;
  if (principal === '*') return true;
  return list((principal as Json).AWS).some((p) => p === '*' || p === roleArn || p === account || p === `arn:aws:iam::${account}:root`);
}

/**
 * AWS managed policies the stacks attach. ReadOnlyAccess is modelled as a superset of its
 * real action list (every Get/List/Describe-style action of every service, including
 * s3:GetObject, ssm:GetParameter and secretsmanager:GetSecretValue): a role judged safe
 * under the superset is safe under the real, narrower policy. kms:Decrypt matches none of
 * these verbs, as in the real policy.
 */
export const READ_VERBS = ['Get', 'List', 'Describe', 'BatchGet', 'Search', 'Lookup', 'View', 'Select', 'Query', 'Scan', 'Head'];
export const MANAGED_POLICIES: Readonly<Record<string, readonly Statement[]>> = {
  'arn:aws:iam::aws:policy/AdministratorAccess': [{ Effect: 'Allow', Action: '*', Resource: '*' }],
  'arn:aws:iam::aws:policy/ReadOnlyAccess': [{ Effect: 'Allow', Action: READ_VERBS.map((verb) => `*:${verb}*`), Resource: '*' }],
};

/**
 * The key policy KMS applies when a key is created without one: the account's root may do
 * everything, which delegates access to IAM policies (nobody is granted anything by the key
 * policy alone).
 */
export const defaultKeyPolicy = (account: string): Statement[] => [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' }];

/**
 * The key policy of the AWS managed `aws/<service>` keys (aws/s3, aws/ssm): every principal
 * of the account may use the key through that service, with no IAM grant needed.
 */
export const awsManagedKeyPolicy = (account: string, service: string, region: string): Statement[] => [
  {
    Effect: 'Allow',
    Principal: { AWS: '*' },
    Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
    Resource: '*',
    Condition: { StringEquals: { 'kms:CallerAccount': account, 'kms:ViaService': `${service}.${region}.amazonaws.com` } },
  },
];

/**
 * Same-account access to a resource that has a resource policy (KMS key policy, S3 bucket
 * policy): an explicit Deny in either policy denies; otherwise the identity policy or the
 * resource policy may allow. KMS is stricter: an identity grant counts only where the key
 * policy lets the account's IAM policies decide (its root is allowed the action).
 */
export function sameAccountDecision(
  identity: readonly Statement[],
  resourcePolicy: readonly Statement[],
  request: Request,
  principal: { roleArn: string; account: string },
  kind: 'kms' | 'other',
): Decision {
  const forPrincipal = resourcePolicy.filter((s) => principalMatches(s, principal.roleArn, principal.account));
  const resourceDirect = evaluate(
    forPrincipal.filter((s) => list((s.Principal as Json)?.AWS).some((p) => p === '*' || p === principal.roleArn)),
    request,
  );
  const identityDecision = evaluate(identity, request);
  if (identityDecision === 'deny' || evaluate(forPrincipal, request) === 'deny') return 'deny';
  if (resourceDirect === 'allow') return 'allow';
  if (identityDecision !== 'allow') return 'implicit-deny';
  if (kind === 'other') return 'allow';
  const root = resourcePolicy.filter((s) => list((s.Principal as Json)?.AWS).some((p) => p === principal.account || p === `arn:aws:iam::${principal.account}:root`));
  return evaluate(root, request) === 'allow' ? 'allow' : 'implicit-deny';
}
