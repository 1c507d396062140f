import { isObject, type Json } from './values';

/** Kubernetes label selector semantics (matchLabels AND matchExpressions); an empty selector matches all. */
export function selectorMatches(selector: unknown, labels: Readonly<Record<string, string>>): boolean {
  if (!isObject(selector)) return false;
  const matchLabels = isObject(selector.matchLabels) ? selector.matchLabels : {};
  for (const [k, v] of Object.entries(matchLabels)) if (labels[k] !== v) return false;
  const expressions = Array.isArray(selector.matchExpressions) ? selector.matchExpressions.filter(isObject) : [];
  return expressions.every((e: Json) => {
    const key = String(e.key);
    const values = Array.isArray(e.values) ? e.values.map(String) : [];
    switch (e.operator) {
      case 'In':
        return key in labels && values.includes(labels[key]);
      case 'NotIn':
        return !(key in labels) || !values.includes(labels[key]);
      case 'Exists':
        return key in labels;
      case 'DoesNotExist':
        return !(key in labels);
      default:
        return false;
    }
  });
}

/** Node selector requirement semantics (In, NotIn, Exists, DoesNotExist, Gt, Lt). */
export function requirementMatches(req: { key: string; operator: string; values: readonly string[] }, labels: Readonly<Record<string, string>>): boolean {
  const has = req.key in labels;
  const value = labels[req.key];
  switch (req.operator) {
    case 'In':
      return has && req.values.includes(value);
    case 'NotIn':
      return !has || !req.values.includes(value);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
      return has && Number(value) > Number(req.values[0]);
    case 'Lt':
      return has && Number(value) < Number(req.values[0]);
    default:
      return false;
  }
}
