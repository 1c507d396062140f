import type { z } from 'zod';
import type { ConfigIssue } from './config-error';

function pathText(base: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => (typeof key === 'number' ? `${text}[${key}]` : `${text}.${String(key)}`), base);
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((value, key) => (value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined), root);
}

/** Zod's issues as ConfigIssues: the path from `base`, the value there, and what is allowed. */
export function schemaIssues(error: z.ZodError, raw: unknown, base: string, typeName = 'ClusterDefinition'): ConfigIssue[] {
  return error.issues.flatMap((issue): ConfigIssue[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: pathText(base, [...issue.path, key]),
        value: valueAt(raw, [...issue.path, key]),
        expected: `expected no such field (check its spelling against the ${typeName} type)`,
      }));
    }
    if (issue.code === 'invalid_type' && issue.message.startsWith('Invalid input')) {
      return [{ path: pathText(base, issue.path), value: valueAt(raw, issue.path), expected: `expected a value of type ${issue.expected}` }];
    }
    const expected = issue.message.replace(/^Invalid input: /, '');
    return [{ path: pathText(base, issue.path), value: valueAt(raw, issue.path), expected: expected.startsWith('expected') ? expected : `expected ${expected}` }];
  });
}
