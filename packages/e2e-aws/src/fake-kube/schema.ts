import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** The structural schema of a CRD version (openAPIV3Schema), as the API server prunes and validates by it. */
export interface Schema {
  readonly type?: string;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly items?: Schema;
  readonly additionalProperties?: Schema | boolean;
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
  readonly 'x-kubernetes-embedded-resource'?: boolean;
  readonly enum?: readonly unknown[];
}

/** The served version's schema of `<plural>.<group>` from the repository's vendored CRDs (packages/k8s-addons/crds). */
export function crdSchema(repoRoot: string, group: string, plural: string, version: string): Schema {
  const file = join(repoRoot, 'packages/k8s-addons/crds', `${group}_${plural}.yaml`);
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const crd = doc.toJS() as { spec?: { versions?: { name: string; schema?: { openAPIV3Schema?: Schema } }[] } } | null;
    const schema = crd?.spec?.versions?.find((v) => v.name === version)?.schema?.openAPIV3Schema;
    if (schema) return schema;
  }
  throw new Error(`${file}: no schema for version ${version}`);
}

const OBJECT_META = new Set(['name', 'namespace', 'labels', 'annotations', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'finalizers', 'ownerReferences', 'managedFields', 'generateName', 'selfLink']);

/**
 * Field paths of `value` the schema does not declare (what `fieldValidation=Strict` refuses with
 * 422 and the API server otherwise prunes), and values outside an `enum` or of the wrong type.
 */
export function schemaErrors(schema: Schema, value: unknown, path = ''): string[] {
  const errors: string[] = [];
  if (value === null || value === undefined) return errors;
  if (path === '.metadata' && typeof value === 'object') {
    return Object.keys(value).filter((k) => !OBJECT_META.has(k)).map((k) => `unknown field "metadata.${k}"`);
  }
  if (schema.enum && !schema.enum.includes(value)) errors.push(`${path.slice(1)}: Unsupported value: ${JSON.stringify(value)}`);
  const type = schema.type;
  const actual = Array.isArray(value) ? 'array' : typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : typeof value;
  if (type && !(type === actual || (type === 'number' && actual === 'integer'))) {
    return [`${path.slice(1)}: Invalid value: "${actual}": ${path.slice(1)} in body must be of type ${type}`];
  }
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((item, i) => errors.push(...schemaErrors(schema.items!, item, `${path}[${i}]`)));
    return errors;
  }
  if (typeof value !== 'object') return errors;
  if (schema['x-kubernetes-preserve-unknown-fields'] && !schema.properties) return errors;
  for (const [k, v] of Object.entries(value)) {
    const child = schema.properties?.[k] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
    if (child) errors.push(...schemaErrors(child, v, `${path}.${k}`));
    else if (!schema['x-kubernetes-preserve-unknown-fields'] && schema.additionalProperties !== true) errors.push(`unknown field "${`${path}.${k}`.slice(1)}"`);
  }
  return errors;
}
