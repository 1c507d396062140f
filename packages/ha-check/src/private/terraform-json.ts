import { HaCheckInputError } from '../input-error';

/** One resource as Terraform will create it, whatever the input format was. */
export interface TfResource {
  /** `<stack>/<type>.<name>`: unique across every loaded stack. */
  readonly address: string;
  readonly stack: string;
  readonly type: string;
  readonly name: string;
  /** Provider alias key (`aws`, `aws.replica`). */
  readonly provider: string;
  readonly values: Readonly<Record<string, unknown>>;
}

export interface TfStack {
  readonly stack: string;
  readonly source: string;
  readonly format: 'cdktf' | 'plan';
  /** Provider key (`aws`, `aws.replica`) → region, when written literally. */
  readonly providerRegions: ReadonlyMap<string, string>;
  readonly resources: readonly TfResource[];
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Terraform identifiers, with an optional count/for_each index (`aws_subnet.private[0]`). */
const REFERENCE = /^\$\{([a-z][a-z0-9_]*)\.([A-Za-z0-9_-]+(?:\[[^\]]*\])?)(?:\.[A-Za-z0-9_.[\]"]*)?\}$/;

/** `${aws_subnet.a.id}` → `aws_subnet.a`; anything else (literals, functions, data sources) → undefined. */
export function referencedResource(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const match = REFERENCE.exec(value);
  if (!match || match[1] === 'data' || match[1] === 'var' || match[1] === 'local') return undefined;
  return `${match[1]}.${match[2]}`;
}

const AWS_SOURCES = /(^|\/)aws$/;

/** `doc[key]` when it is an object, {} when absent; anything else is not Terraform JSON. */
function objectField(doc: Json, key: string, source: string, expected: string): Json {
  const value = doc[key];
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw new HaCheckInputError(`${source}: "${key}": expected an object (${expected}), got ${JSON.stringify(value)}`);
  return value;
}

function cdktfStack(doc: Json, source: string, fallbackStack: string): TfStack {
  const meta = isObject(doc['//']) && isObject((doc['//'] as Json).metadata) ? ((doc['//'] as Json).metadata as Json) : {};
  const stack = typeof meta.stackName === 'string' ? meta.stackName : fallbackStack;
  const providers = isObject(doc.provider) ? doc.provider : {};
  const required = isObject(doc.terraform) && isObject((doc.terraform as Json).required_providers) ? ((doc.terraform as Json).required_providers as Json) : {};
  const hasAws = 'aws' in providers || Object.values(required).some((p) => isObject(p) && typeof p.source === 'string' && AWS_SOURCES.test(p.source));
  if (!hasAws) {
    throw new HaCheckInputError(`${source}: no AWS provider in this Terraform (providers: ${Object.keys(providers).join(', ') || 'none'}); ha-check judges AWS clusters only`);
  }
  const providerRegions = new Map<string, string>();
  const awsConfigs = Array.isArray(providers.aws) ? providers.aws : isObject(providers.aws) ? [providers.aws] : [];
  for (const cfg of awsConfigs) {
    if (!isObject(cfg) || typeof cfg.region !== 'string') continue;
    providerRegions.set(typeof cfg.alias === 'string' ? `aws.${cfg.alias}` : 'aws', cfg.region);
  }
  const resources: TfResource[] = [];
  const byType = objectField(doc, 'resource', source, 'resource types → names → arguments');
  for (const [type, named] of Object.entries(byType)) {
    if (!isObject(named)) throw new HaCheckInputError(`${source}: resource.${type}: expected an object of resource names, got ${JSON.stringify(named)}`);
    for (const [name, values] of Object.entries(named)) {
      if (!isObject(values)) throw new HaCheckInputError(`${source}: resource.${type}.${name}: expected an object of arguments, got ${JSON.stringify(values)}`);
      const provider = typeof values.provider === 'string' ? values.provider.replace(/^\$\{|\}$/g, '') : 'aws';
      resources.push({ address: `${stack}/${type}.${name}`, stack, type, name, provider, values });
    }
  }
  return { stack, source, format: 'cdktf', providerRegions, resources };
}

/** Plan `expressions` → values with `${ref}` strings where the value is only known after apply. */
function expressionValue(expr: unknown): unknown {
  if (Array.isArray(expr)) return expr.map((block) => (isObject(block) ? expressionObject(block) : block));
  if (!isObject(expr)) return undefined;
  if ('constant_value' in expr) return expr.constant_value;
  if (Array.isArray(expr.references)) {
    const all = [...new Set(expr.references.map((r) => referencedResource(`\${${String(r)}}`)).filter((r): r is string => r !== undefined))];
    // Terraform lists every prefix (`aws_subnet.a[1].id`, `aws_subnet.a[1]`, `aws_subnet.a`): keep the instance.
    const targets = all.filter((t) => !all.some((other) => other.startsWith(`${t}[`)));
    const refs = targets.map((t) => `\${${t}.id}`);
    return refs.length === 1 ? refs[0] : refs;
  }
  return expressionObject(expr);
}

function expressionObject(expressions: Json): Json {
  return Object.fromEntries(Object.entries(expressions).map(([k, v]) => [k, expressionValue(v)]));
}

/** Planned values win; configuration fills in what the plan leaves unknown (ids, ARNs). */
function overlay(config: unknown, planned: unknown): unknown {
  if (planned === null || planned === undefined) return config;
  if (Array.isArray(planned) && Array.isArray(config)) return planned.map((p, i) => overlay(config[i], p));
  if (isObject(planned) && isObject(config)) {
    const out: Json = { ...config };
    for (const [k, v] of Object.entries(planned)) out[k] = overlay(config[k], v);
    return out;
  }
  return planned;
}

function planStack(doc: Json, source: string, stack: string): TfStack {
  const version = doc.format_version;
  if (typeof version !== 'string' || !/^1\./.test(version)) {
    throw new HaCheckInputError(`${source}: unsupported plan format_version ${JSON.stringify(version)}; expected 1.x (terraform show -json)`);
  }
  const configuration = objectField(doc, 'configuration', source, 'terraform show -json: provider_config, root_module');
  objectField(doc, 'planned_values', source, 'terraform show -json: root_module');
  const providerConfig = isObject(configuration.provider_config) ? configuration.provider_config : {};
  const providerRegions = new Map<string, string>();
  for (const [key, cfg] of Object.entries(providerConfig)) {
    if (!isObject(cfg) || cfg.name !== 'aws') continue;
    const region = isObject(cfg.expressions) ? expressionValue(cfg.expressions.region) : undefined;
    if (typeof region === 'string') providerRegions.set(key, region);
  }
  const configResources = new Map<string, Json>();
  const rootConfig = isObject(configuration.root_module) ? configuration.root_module : {};
  for (const r of Array.isArray(rootConfig.resources) ? rootConfig.resources : []) {
    if (isObject(r) && typeof r.address === 'string') configResources.set(r.address, r);
  }
  const resources: TfResource[] = [];
  const providers = new Set<string>();
  const visit = (module: unknown): void => {
    if (!isObject(module)) return;
    for (const r of Array.isArray(module.resources) ? module.resources : []) {
      if (!isObject(r) || r.mode !== 'managed' || typeof r.type !== 'string' || typeof r.name !== 'string') continue;
      if (typeof r.provider_name === 'string') providers.add(r.provider_name);
      const name = r.index === undefined ? r.name : `${r.name}[${JSON.stringify(r.index)}]`;
      const cfg = configResources.get(`${r.type}.${r.name}`);
      const configValues = cfg && isObject(cfg.expressions) ? expressionObject(cfg.expressions) : {};
      const values = overlay(configValues, isObject(r.values) ? r.values : {}) as Json;
      const provider = cfg && typeof cfg.provider_config_key === 'string' ? cfg.provider_config_key : 'aws';
      resources.push({ address: `${stack}/${r.type}.${name}`, stack, type: r.type, name, provider, values });
    }
    for (const child of Array.isArray(module.child_modules) ? module.child_modules : []) visit(child);
  };
  visit(isObject(doc.planned_values) ? doc.planned_values.root_module : undefined);
  const awsProviders = [...providers].filter((p) => AWS_SOURCES.test(p));
  if (awsProviders.length === 0 && (providers.size > 0 || providerRegions.size === 0)) {
    throw new HaCheckInputError(`${source}: a plan of another provider (${[...providers].join(', ') || 'no resources'}); ha-check judges AWS (hashicorp/aws) clusters only`);
  }
  return { stack, source, format: 'plan', providerRegions, resources };
}

/** Parses one Terraform JSON document: CDKTF's `cdk.tf.json` or `terraform show -json` of a plan. */
export function parseTerraformDocument(text: string, source: string, fallbackStack: string): TfStack {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new HaCheckInputError(`${source}: malformed JSON (${(error as Error).message})`);
  }
  if (!isObject(doc)) throw new HaCheckInputError(`${source}: expected a JSON object (cdk.tf.json or terraform show -json output)`);
  if ('planned_values' in doc || 'format_version' in doc) return planStack(doc, source, fallbackStack);
  if ('resource' in doc || 'provider' in doc || 'terraform' in doc) return cdktfStack(doc, source, fallbackStack);
  throw new HaCheckInputError(`${source}: neither a CDKTF cdk.tf.json (no "resource"/"provider") nor a plan (no "format_version"/"planned_values")`);
}
