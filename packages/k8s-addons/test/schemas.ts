import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parseAllDocuments } from 'yaml';

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
  return out;
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
          return compiled(object)
            ? []
            : (compiled.errors ?? []).map((e) => `${e.instancePath} ${e.message}${e.keyword === 'additionalProperties' ? `: ${String(e.params.additionalProperty)}` : ''}`);
        });
      }
    }
  }
  return validators;
}

/** Validates with kubernetes-models (core kinds); undefined when it has no model for the kind. */
export function coreValidator(apiVersion: string, kind: string): Validator | undefined {
  let model: (new (data: unknown) => { validate(): void }) | undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    model = require(`kubernetes-models/${apiVersion}`)[kind];
  } catch {
    return undefined;
  }
  if (!model) return undefined;
  const Model = model;
  return (object) => {
    try {
      new Model(object).validate();
      return [];
    } catch (error) {
      return [String(error)];
    }
  };
}

/** Problems of one object: schema errors, or that no schema exists for its kind. */
export function validateObject(object: Record<string, unknown>, crds: Map<string, Validator>): string[] {
  const apiVersion = String(object.apiVersion);
  const kind = String(object.kind);
  const validate = crds.get(`${apiVersion}/${kind}`) ?? coreValidator(apiVersion, kind);
  if (!validate) return [`no schema for ${apiVersion} ${kind}`];
  return validate(object);
}
