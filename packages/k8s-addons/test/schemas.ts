import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import ts from 'typescript';
import { parse, parseAllDocuments } from 'yaml';

/** The real upstream CRDs, vendored unchanged in crds/ (see crds/SOURCES.txt). */
export const CRD_DIR = join(__dirname, '..', 'crds');

/**
 * CRD patterns are Go (RE2) regular expressions; some carry inline flags such as `^(?i)...`,
 * which JavaScript rejects. Flag groups are removed and applied to the whole pattern (exact
 * for the leading groups the CRDs use; a superset for a group in mid-pattern).
 */
export function goRegExp(pattern: string): RegExp {
  const flags = new Set(['u']);
  const source = pattern.replace(/\(\?([imsU]+)\)/g, (_group, groupFlags: string) => {
    for (const f of groupFlags) if (f !== 'U') flags.add(f);
    return '';
  });
  return new RegExp(source, [...flags].sort().join(''));
}

type Schema = { [key: string]: unknown };

/**
 * The API server rejects fields a structural schema does not declare (server-side apply, which
 * Flux uses, fails with "field not declared in schema"); JSON Schema allows them unless told.
 * Closes every object that declares `properties` and neither `additionalProperties` nor
 * `x-kubernetes-preserve-unknown-fields`. allOf/anyOf/oneOf/not are value validations in a
 * structural schema (their properties repeat the main ones) and stay open.
 */
export function rejectUndeclaredFields(schema: Schema): Schema {
  const out: Schema = { ...schema };
  if (isSchema(schema.properties)) {
    out.properties = Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, isSchema(v) ? rejectUndeclaredFields(v) : v]));
    if (schema.additionalProperties === undefined && schema['x-kubernetes-preserve-unknown-fields'] !== true) out.additionalProperties = false;
  }
  if (isSchema(schema.items)) out.items = rejectUndeclaredFields(schema.items);
  if (isSchema(schema.additionalProperties)) out.additionalProperties = rejectUndeclaredFields(schema.additionalProperties);
  if (isSchema(schema.definitions)) out.definitions = Object.fromEntries(Object.entries(schema.definitions).map(([k, v]) => [k, isSchema(v) ? rejectUndeclaredFields(v) : v]));
  return out;
}

/** ajv errors as one line each; an undeclared field is named. */
function messages(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => `${e.instancePath} ${e.message}${e.keyword === 'additionalProperties' ? `: ${String(e.params.additionalProperty)}` : ''}`);
}

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface CrdDocument {
  kind: string;
  spec: { group: string; names: { kind: string }; versions: { name: string; schema?: { openAPIV3Schema: object } }[] };
}

export type Validator = (object: Record<string, unknown>) => string[];

/** `apiVersion/kind` → validator, from every CRD file in CRD_DIR. */
export function crdValidators(): Map<string, Validator> {
  const ajv = new Ajv({ strict: false, allErrors: true, code: { regExp: goRegExp as never } });
  addFormats(ajv);
  for (const f of ['int32', 'int64', 'float', 'double', 'byte', 'int-or-string', 'duration']) if (!ajv.formats[f]) ajv.addFormat(f, true);
  const validators = new Map<string, Validator>();
  for (const file of readdirSync(CRD_DIR).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(CRD_DIR, file), 'utf8'))) {
      const crd = doc.toJS() as CrdDocument | null;
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      for (const version of crd.spec.versions) {
        if (!version.schema) continue;
        let compiled: ValidateFunction | undefined;
        validators.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, (object) => {
          compiled ??= ajv.compile(rejectUndeclaredFields(version.schema!.openAPIV3Schema as Schema));
          return compiled(object) ? [] : messages(compiled.errors);
        });
      }
    }
  }
  return validators;
}

/**
 * kubernetes-models ships the Kubernetes OpenAPI definitions only as compiled ajv validators
 * (`_schemas/*.js`, which never reject an undeclared field) and as the `.d.ts` interfaces
 * generated from the same definitions, one per definition with the JSON field names. The
 * structural schema of a kind is read from those interfaces: an interface with properties is an
 * object with exactly those fields, `Array<T>` an array, a string index signature a map
 * (`labels`, `annotations`, `data`, `nodeSelector`), and everything else is left open: scalars,
 * `IntOrString`/`Quantity` (`string | number`) and empty interfaces (`RawExtension`, `FieldsV1`,
 * the free-form definitions). Values (types, required, formats) stay with kubernetes-models.
 */
export function coreStructuralSchema(apiVersion: string, kind: string): Schema | undefined {
  let index: string;
  try {
    index = require.resolve(`kubernetes-models/${apiVersion}`);
  } catch {
    return undefined;
  }
  const file = join(dirname(index), `${kind}.d.ts`);
  if (!existsSync(file)) return undefined;
  const program = ts.createProgram([file], DECLARATION_OPTIONS, declarationHost);
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(file)!);
  const symbol = module && checker.getExportsOfModule(module).find((s) => s.name === `I${kind}`);
  if (!symbol) return undefined;
  const definitions: Record<string, Schema> = {};
  const names = new Map<ts.Type, string>();
  const schemaOf = (type: ts.Type): Schema => {
    const t = checker.getNonNullableType(type);
    if (checker.isArrayType(t)) return { items: schemaOf(checker.getTypeArguments(t as ts.TypeReference)[0]) };
    if (t.isUnion() || !(t.flags & ts.TypeFlags.Object)) return {};
    const map = checker.getIndexInfoOfType(t, ts.IndexKind.String);
    if (map) return { additionalProperties: schemaOf(map.type) };
    const properties = checker.getPropertiesOfType(t);
    if (properties.length === 0) return {};
    let name = names.get(t);
    if (!name) {
      name = `${t.symbol?.name ?? 'object'}${names.size}`;
      names.set(t, name);
      definitions[name] = { properties: Object.fromEntries(properties.map((p) => [p.name, schemaOf(checker.getTypeOfSymbol(p))])) };
    }
    return { $ref: `#/definitions/${name}` };
  };
  return { ...schemaOf(checker.getDeclaredTypeOfSymbol(symbol)), definitions };
}

const DECLARATION_OPTIONS: ts.CompilerOptions = { strict: true, noEmit: true, types: [], lib: ['lib.es5.d.ts'] };
/** One compiler host for every kind, so each declaration file is parsed once. */
const declarationHost = (() => {
  const host = ts.createCompilerHost(DECLARATION_OPTIONS);
  const parsed = new Map<string, ts.SourceFile | undefined>();
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, version, onError) => {
    if (!parsed.has(fileName)) parsed.set(fileName, getSourceFile(fileName, version, onError));
    return parsed.get(fileName);
  };
  return host;
})();

const coreAjv = new Ajv({ strict: false, allErrors: true });
const coreValidators = new Map<string, Validator | undefined>();

/**
 * Validates a core kind: kubernetes-models for values, then its structural schema with
 * {@link rejectUndeclaredFields} for fields, as the API server prunes or server-side apply
 * rejects them. Undefined when kubernetes-models has no model for the kind.
 */
export function coreValidator(apiVersion: string, kind: string): Validator | undefined {
  const key = `${apiVersion}/${kind}`;
  if (!coreValidators.has(key)) coreValidators.set(key, buildCoreValidator(apiVersion, kind));
  return coreValidators.get(key);
}

function buildCoreValidator(apiVersion: string, kind: string): Validator | undefined {
  let model: (new (data: unknown) => { validate(): void }) | undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    model = require(`kubernetes-models/${apiVersion}`)[kind];
  } catch {
    return undefined;
  }
  const fields = model && coreFieldValidator(apiVersion, kind);
  if (!model || !fields) return undefined;
  const Model = model;
  return (object) => {
    const problems: string[] = [];
    try {
      new Model(object).validate();
    } catch (error) {
      problems.push(String(error));
    }
    return [...problems, ...fields(object)];
  };
}

const fieldValidators = new Map<string, Validator | undefined>();

/** Only the undeclared-field check of a core kind, which also holds for a partial object (a patch). */
export function coreFieldValidator(apiVersion: string, kind: string): Validator | undefined {
  const key = `${apiVersion}/${kind}`;
  if (!fieldValidators.has(key)) {
    const structural = coreStructuralSchema(apiVersion, kind);
    const compiled = structural && coreAjv.compile(rejectUndeclaredFields(structural));
    fieldValidators.set(key, compiled && ((object) => (compiled(object) ? [] : messages(compiled.errors))));
  }
  return fieldValidators.get(key);
}

/**
 * The apiVersion a kustomize patch target means: its group/version when given, else the newest
 * GA version kubernetes-models has for the kind (what the API server prefers: apps/v1 for a
 * Deployment, autoscaling/v2 for an HPA). Undefined for a kind that is not a core one.
 */
export function patchTargetApiVersion(target: { group?: string; version?: string; kind?: string }): string | undefined {
  const kind = target.kind;
  if (!kind) return undefined;
  const root = dirname(dirname(require.resolve('kubernetes-models/v1')));
  const apiVersions = readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== '_schemas')
    .flatMap((d) => (d.name === 'v1' ? ['v1'] : readdirSync(join(root, d.name)).map((v) => `${d.name}/${v}`)));
  const candidates = apiVersions.filter((apiVersion) => {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    const versionMatches = target.version === undefined ? /^v\d+$/.test(version) : target.version === version;
    return (target.group === undefined || target.group === group) && versionMatches && existsSync(join(root, apiVersion, `${kind}.d.ts`));
  });
  const major = (apiVersion: string) => Number(/v(\d+)/.exec(apiVersion.split('/').pop()!)?.[1] ?? 0);
  return candidates.sort((x, y) => major(y) - major(x))[0];
}

interface KustomizePatch {
  patch: string;
  target: { group?: string; version?: string; kind?: string };
}

function isKustomizePatch(value: unknown): value is KustomizePatch {
  return isSchema(value) && typeof value.patch === 'string' && isSchema(value.target);
}

/**
 * Kustomize patches (HelmRelease post-renderers, FluxInstance and Flux Kustomization patches)
 * carry their fields inside a string, which no schema of the object carrying them sees. Each
 * one on a core kind is checked for undeclared fields: a JSON 6902 `add`/`replace` as the
 * partial object its path and value make, a strategic-merge patch as the partial object it is.
 */
export function patchProblems(object: unknown, at = ''): string[] {
  if (Array.isArray(object)) return object.flatMap((item, i) => patchProblems(item, `${at}/${i}`));
  if (!isSchema(object)) return [];
  if (isKustomizePatch(object)) {
    const apiVersion = patchTargetApiVersion(object.target);
    const fields = apiVersion && coreFieldValidator(apiVersion, object.target.kind!);
    if (!apiVersion || !fields) return [];
    const patch = parse(object.patch) as unknown;
    const partials = Array.isArray(patch)
      ? patch.filter((op) => isSchema(op) && (op.op === 'add' || op.op === 'replace')).map((op) => partialObject(String(op.path), op.value))
      : [withoutDirectives(patch)];
    return partials.flatMap((partial) => fields({ ...(partial as object), apiVersion, kind: object.target.kind }).map((p) => `${at}/patch (${apiVersion} ${object.target.kind}): ${p}`));
  }
  return Object.entries(object).flatMap(([k, v]) => patchProblems(v, `${at}/${k}`));
}

/** A strategic-merge patch without its `$patch`, `$setElementOrder/...` and `$retainKeys` directives. */
function withoutDirectives(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDirectives);
  if (!isSchema(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => !k.startsWith('$')).map(([k, v]) => [k, withoutDirectives(v)]));
}

/** `{spec: {template: {tolerations: value}}}` for `/spec/template/tolerations`; `[value]` for an index or `-`. */
function partialObject(path: string, value: unknown): unknown {
  return path
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduceRight<unknown>((inner, segment) => (/^(\d+|-)$/.test(segment) ? [inner] : { [segment]: inner }), value);
}

/** Problems of one object: schema errors, or that no schema exists for its kind. */
export function validateObject(object: Record<string, unknown>, crds: Map<string, Validator>): string[] {
  const apiVersion = String(object.apiVersion);
  const kind = String(object.kind);
  const validate = crds.get(`${apiVersion}/${kind}`) ?? coreValidator(apiVersion, kind);
  if (!validate) return [`no schema for ${apiVersion} ${kind}`];
  return [...validate(object), ...patchProblems(object)];
}
