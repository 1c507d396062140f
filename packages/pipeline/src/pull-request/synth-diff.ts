import { table } from '../io/markdown';

/**
 * What the change does to the synthesized Terraform, read from each stack's `cdk.tf.json`
 * at the merge base and at the head: resources added and removed, and per changed resource
 * each attribute with its old and new value. Unlike a plan it needs no state, so it shows
 * intent even where the plan runs offline and every resource shows as new (forks, local
 * runs). Values of secret-like attributes are masked; JSON documents inside strings (IAM
 * policies) are compared by their content, not as one long string.
 */

/** The part of a synthesized stack this module reads. */
export interface SynthesizedStack {
  readonly resource?: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, unknown>>>>>>;
}

export interface AttributeChange {
  /** e.g. `mixed_instances_policy.launch_template.override[0].instance_type` */
  readonly path: string;
  readonly before: string;
  readonly after: string;
}

export interface ResourceDiff {
  readonly address: string;
  readonly change: 'added' | 'removed' | 'changed';
  readonly attributes: readonly AttributeChange[];
}

/** Attribute names whose values are never shown (provider-sensitive or secret by nature). */
const SENSITIVE = /(password|secret|token|private_key|key_material|credential|user_data|certificate_body|session)/i;
/** Top-level attributes the AWS provider marks sensitive, per resource type. */
const SENSITIVE_BY_TYPE: Readonly<Record<string, readonly string[]>> = {
  aws_ssm_parameter: ['value', 'insecure_value'],
  aws_iam_access_key: ['pgp_key'],
  aws_db_instance: ['password'],
};
export const MASK = '(sensitive)';
const ABSENT = '—';

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A string holding a JSON object or array (policy documents) is compared as that document. */
function expand(value: unknown): unknown {
  if (typeof value === 'string' && /^\s*[[{]/.test(value)) {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  }
  return value;
}

function show(value: unknown): string {
  if (value === undefined) return ABSENT;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}…` : text;
}

/** Leaf paths with values; `//` (cdktf metadata) is not configuration. */
function flatten(value: unknown, path: string, sensitive: boolean, out: Map<string, { value: unknown; sensitive: boolean }>, topLevel: readonly string[] = []): void {
  const v = expand(value);
  if (Array.isArray(v)) {
    if (v.length === 0) out.set(path, { value: [], sensitive });
    v.forEach((item, i) => flatten(item, `${path}[${i}]`, sensitive, out));
  } else if (isRecord(v)) {
    const keys = Object.keys(v).filter((k) => k !== '//');
    if (keys.length === 0) out.set(path, { value: {}, sensitive });
    for (const k of keys) flatten(v[k], path ? `${path}.${k}` : k, sensitive || SENSITIVE.test(k) || (path === '' && topLevel.includes(k)), out);
  } else {
    out.set(path, { value: v, sensitive });
  }
}

/** `type` (e.g. aws_ssm_parameter) decides which top-level attributes the provider treats as sensitive. */
export function diffResource(type: string, before: Record<string, unknown>, after: Record<string, unknown>): AttributeChange[] {
  const a = new Map<string, { value: unknown; sensitive: boolean }>();
  const b = new Map<string, { value: unknown; sensitive: boolean }>();
  flatten(before, '', false, a, SENSITIVE_BY_TYPE[type]);
  flatten(after, '', false, b, SENSITIVE_BY_TYPE[type]);
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  const changes: AttributeChange[] = [];
  for (const path of paths) {
    const x = a.get(path);
    const y = b.get(path);
    if (JSON.stringify(x?.value) === JSON.stringify(y?.value)) continue;
    const masked = x?.sensitive || y?.sensitive;
    changes.push({ path, before: masked && x ? MASK : show(x?.value), after: masked && y ? MASK : show(y?.value) });
  }
  return changes;
}

function resources(stack: SynthesizedStack | undefined): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const [type, byName] of Object.entries(stack?.resource ?? {})) {
    for (const [name, config] of Object.entries(byName)) out.set(`${type}.${name}`, config as Record<string, unknown>);
  }
  return out;
}

/** Resources added, removed and changed between two synths of one stack (undefined: the stack did not exist). */
export function diffSynthesized(base: SynthesizedStack | undefined, head: SynthesizedStack | undefined): ResourceDiff[] {
  const before = resources(base);
  const after = resources(head);
  const out: ResourceDiff[] = [];
  for (const address of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const x = before.get(address);
    const y = after.get(address);
    if (!x && y) out.push({ address, change: 'added', attributes: [] });
    else if (x && !y) out.push({ address, change: 'removed', attributes: [] });
    else if (x && y) {
      const attributes = diffResource(address.slice(0, address.indexOf('.')), x, y);
      if (attributes.length > 0) out.push({ address, change: 'changed', attributes });
    }
  }
  return out;
}

/** The comment's "Synthesized change" section, at most `maxRows` rows. */
export function renderSynthesizedChange(diff: readonly ResourceDiff[] | undefined, maxRows = 80): string {
  const title = '#### Synthesized change';
  if (diff === undefined) return `${title}\n\nNot compared: the merge base's Terraform could not be synthesized here.`;
  if (diff.length === 0) return `${title}\n\nThe synthesized Terraform of this stack is the same at the merge base and here.`;
  const count = (c: ResourceDiff['change']) => diff.filter((d) => d.change === c).length;
  const rows: string[][] = [];
  for (const d of diff) {
    if (d.change !== 'changed') rows.push([d.change, `\`${d.address}\``, '', '', '']);
    else for (const a of d.attributes) rows.push(['changed', `\`${d.address}\``, `\`${a.path}\``, a.before, a.after]);
  }
  const shown = rows.slice(0, maxRows);
  const more = rows.length > shown.length ? `\n\n…and ${rows.length - shown.length} more rows.` : '';
  return `${title}\n\n**${count('added')} added, ${count('changed')} changed, ${count('removed')} removed** resources in \`cdk.tf.json\` (merge base → this commit; values of secret-like attributes shown as ${MASK}).\n\n${table(['change', 'resource', 'attribute', 'old', 'new'], shown)}${more}`;
}
