/** RBAC objects as the tests read them from the rendered manifests. */
export type Rule = { apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[] };
export type RbacObject = {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  rules?: Rule[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
};

export interface Request {
  readonly verb: string;
  readonly group: string;
  /** `<resource>` or `<resource>/<subresource>`: a subresource is its own resource to RBAC. */
  readonly resource: string;
  /** Undefined: a cluster-wide request (list across namespaces, or a cluster-scoped object). */
  readonly namespace?: string;
  readonly name?: string;
}

/**
 * Kubernetes RBAC as the API server decides (additive, no deny): a ClusterRoleBinding's rules hold
 * in every namespace and for cluster-wide requests, a RoleBinding's only inside its namespace; a
 * subresource matches only itself (`pods` grants nothing on `pods/exec`); a rule with resourceNames
 * matches only requests naming one of them (so never a list or a create).
 */
export function rbacAllows(objs: readonly RbacObject[], sa: { name: string; namespace: string }, request: Request): boolean {
  const bound = objs.filter(
    (b) =>
      (b.kind === 'ClusterRoleBinding' || (b.kind === 'RoleBinding' && request.namespace !== undefined && b.metadata.namespace === request.namespace)) &&
      b.subjects?.some((s) => s.kind === 'ServiceAccount' && s.name === sa.name && s.namespace === sa.namespace),
  );
  const rules = bound.flatMap((b) => objs.filter((r) => r.kind === b.roleRef!.kind && r.metadata.name === b.roleRef!.name && (r.kind === 'ClusterRole' || r.metadata.namespace === b.metadata.namespace)).flatMap((r) => r.rules ?? []));
  return rules.some(
    (r) =>
      (r.apiGroups ?? []).includes(request.group) &&
      (r.resources ?? []).includes(request.resource) &&
      r.verbs.includes(request.verb) &&
      (!r.resourceNames || (request.name !== undefined && r.resourceNames.includes(request.name))),
  );
}
