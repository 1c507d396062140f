import { load } from 'js-yaml';
import type { K8sObject } from '../manifests';
import type { PodTemplateModel } from '../model';
import { podTemplateOf } from './pod-templates';
import { isObject, str, type Json } from './values';

/** The annotation the pod identity webhook reads to inject a role (EKS's name, kept by the self-hosted webhook). */
export const ROLE_ANNOTATION = 'eks.amazonaws.com/role-arn';
/** CloudNativePG mounts `spec.projectedVolumeTemplate` here in every instance pod. */
const CNPG_PROJECTED_MOUNT = '/projected';

/**
 * How one pod template reaches AWS, as written in the manifests. `env`: the pod itself sets
 * AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE (pointing into a projected service-account token);
 * `annotation`: its service account carries `eks.amazonaws.com/role-arn`, which only a pod identity
 * webhook turns into that env and volume.
 */
export interface PodIdentity {
  /** `Kind/namespace/name`, or `HelmRelease/<ns>/<name>[:component]`. */
  readonly workload: string;
  readonly namespace: string;
  /** undefined: a HelmRelease whose values leave the name to the chart's default. */
  readonly serviceAccount: string | undefined;
  /** AWS_ROLE_ARN of the containers. */
  readonly envRoleArn: string | undefined;
  /** Audience of the projected service-account token AWS_WEB_IDENTITY_TOKEN_FILE points at; `missing` when it points at no projected token. */
  readonly envTokenAudience: string | undefined;
  readonly envTokenFile: string | undefined;
  /** The service account's annotation (its ServiceAccount object, a CNPG serviceAccountTemplate or chart values). */
  readonly annotationRoleArn: string | undefined;
  readonly template: PodTemplateModel;
}

const arr = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : []);
const meta = (o: Json): Json => (isObject(o.metadata) ? o.metadata : {});
const spec = (o: Json): Json => (isObject(o.spec) ? o.spec : {});
const annotationOf = (o: Json): string | undefined => (isObject(meta(o).annotations) ? str((meta(o).annotations as Json)[ROLE_ANNOTATION]) : undefined);

/** `env` as a list of `{ name, value }` or a map (chart values accept both). */
function envValue(env: unknown, name: string): string | undefined {
  if (isObject(env)) return str(env[name]);
  return str(arr(env).find((e) => e.name === name)?.value);
}

/** Projected service-account tokens by the file path a container sees: mount path + the source's path. */
function projectedTokens(podSpec: Json, containers: readonly Json[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const volume of arr(podSpec.volumes)) {
    const sources = isObject(volume.projected) ? arr(volume.projected.sources) : [];
    for (const source of sources) {
      const token = isObject(source.serviceAccountToken) ? source.serviceAccountToken : undefined;
      if (!token) continue;
      for (const c of containers) {
        for (const m of arr(c.volumeMounts).filter((x) => x.name === volume.name)) {
          // No audience: the API server's own (its issuer), which STS rejects.
          out.set(`${String(m.mountPath).replace(/\/$/, '')}/${String(token.path)}`, str(token.audience) ?? '(the API server audience)');
        }
      }
    }
  }
  return out;
}

function fromPodSpec(workload: string, namespace: string, podSpec: Json, template: PodTemplateModel, accounts: ReadonlyMap<string, string | undefined>): PodIdentity {
  const containers = [...arr(podSpec.containers), ...arr(podSpec.initContainers)];
  const roleArn = containers.map((c) => envValue(c.env, 'AWS_ROLE_ARN')).find((x) => x !== undefined);
  const tokenFile = containers.map((c) => envValue(c.env, 'AWS_WEB_IDENTITY_TOKEN_FILE')).find((x) => x !== undefined);
  const serviceAccount = str(podSpec.serviceAccountName) ?? str(podSpec.serviceAccount) ?? 'default';
  return {
    workload,
    namespace,
    serviceAccount,
    envRoleArn: roleArn,
    envTokenAudience: tokenFile === undefined ? undefined : (projectedTokens(podSpec, containers).get(tokenFile) ?? 'missing'),
    envTokenFile: tokenFile,
    annotationRoleArn: accounts.get(`${namespace}/${serviceAccount}`),
    template,
  };
}

/** A CloudNativePG Cluster: its instances run as a service account named after the Cluster. */
function cnpgIdentity(o: K8sObject, layer: string): PodIdentity {
  const name = String(meta(o).name);
  const namespace = String(meta(o).namespace ?? 'default');
  const s = spec(o);
  const affinity = isObject(s.affinity) ? s.affinity : {};
  const podSpec: Json = { nodeSelector: affinity.nodeSelector, tolerations: affinity.tolerations, containers: [{ name: 'postgres', env: s.env }] };
  const projected = isObject(s.projectedVolumeTemplate) ? arr(s.projectedVolumeTemplate.sources) : [];
  const tokens = new Map<string, string>(projected.flatMap((src) => (isObject(src.serviceAccountToken) ? [[`${CNPG_PROJECTED_MOUNT}/${String(src.serviceAccountToken.path)}`, str(src.serviceAccountToken.audience) ?? '(the API server audience)'] as const] : [])));
  const tokenFile = envValue(s.env, 'AWS_WEB_IDENTITY_TOKEN_FILE');
  const template = isObject(s.serviceAccountTemplate) ? s.serviceAccountTemplate : {};
  return {
    workload: `Cluster/${namespace}/${name}`,
    namespace,
    serviceAccount: name,
    envRoleArn: envValue(s.env, 'AWS_ROLE_ARN'),
    envTokenAudience: tokenFile === undefined ? undefined : (tokens.get(tokenFile) ?? 'missing'),
    envTokenFile: tokenFile,
    annotationRoleArn: annotationOf(template),
    template: podTemplateOf(`Cluster/${namespace}/${name}`, 'StatefulSet', 1, {}, podSpec, layer),
  };
}

/** Every `{ annotations: { eks.amazonaws.com/role-arn } }` block in chart values, with its dotted path and `name`. */
function valueAccounts(values: unknown, path: string, out: Array<{ path: string; name: string | undefined; roleArn: string }>): void {
  if (!isObject(values)) return;
  const annotations = isObject(values.annotations) ? values.annotations : undefined;
  const roleArn = annotations ? str(annotations[ROLE_ANNOTATION]) : undefined;
  if (roleArn) out.push({ path, name: str(values.name), roleArn });
  for (const [k, v] of Object.entries(values)) if (k !== 'annotations') valueAccounts(v, path ? `${path}.${k}` : k, out);
}

/** Kinds a HelmRelease's post-renderer patches turn to `hostNetwork: true` (`/spec/template/spec/hostNetwork`). */
function postRenderedHostNetwork(release: Json): Set<string> {
  const kinds = new Set<string>();
  for (const r of arr(spec(release).postRenderers)) {
    for (const p of isObject(r.kustomize) ? arr(r.kustomize.patches) : []) {
      let ops: unknown;
      try {
        ops = typeof p.patch === 'string' ? load(p.patch) : p.patch;
      } catch {
        continue;
      }
      const sets = arr(ops).some((op) => op.path === '/spec/template/spec/hostNetwork' && op.value === true) || (isObject(ops) && isObject(spec(ops).template) && (spec(spec(ops).template as Json) as Json).hostNetwork === true);
      if (sets) kinds.add(isObject(p.target) ? String(p.target.kind ?? '*') : '*');
    }
  }
  return kinds;
}

/**
 * `hostNetwork: true` in a release's values, for its main workload (top level) or a component
 * (`<component>.hostNetwork`); a Cilium agent always runs in the host's network namespace.
 * (The HA renders of chart-workloads.ts do not carry hostNetwork.)
 */
function valuesHostNetwork(values: Json, id: string): boolean {
  const component = id.includes(':') ? id.slice(id.indexOf(':') + 1) : undefined;
  if (/\/cilium:agent$/.test(id)) return true;
  const scope = component && isObject(values[component]) ? (values[component] as Json) : component ? {} : values;
  return scope.hostNetwork === true || scope.hostNetworking === true;
}

/**
 * The pod identities of a cluster's manifests: Deployments, StatefulSets, DaemonSets, Jobs,
 * CronJobs, CloudNativePG Clusters, and HelmReleases as far as their values (and the pod templates
 * ha-check renders from them) say. Pods with no AWS wiring are kept too: on a node whose IMDS they
 * reach, they act as the node's role.
 */
export function podIdentities(objects: readonly K8sObject[], renderedTemplates: readonly PodTemplateModel[], layerOf: (o: K8sObject) => string): PodIdentity[] {
  const accounts = new Map<string, string | undefined>();
  for (const sa of objects.filter((o) => o.kind === 'ServiceAccount')) accounts.set(`${String(meta(sa).namespace ?? 'default')}/${String(meta(sa).name)}`, annotationOf(sa));
  // The workload model's templates, reused (this runs over every object of the cluster).
  const rendered = new Map(renderedTemplates.map((t) => [t.id, t]));
  const out: PodIdentity[] = [];
  for (const o of objects) {
    const namespace = String(meta(o).namespace ?? 'default');
    const id = `${o.kind}/${namespace}/${String(meta(o).name)}`;
    const templateOf = (t: unknown): Json => (isObject(t) ? spec(t) : {});
    const podSpec =
      o.kind === 'Deployment' || o.kind === 'StatefulSet' || o.kind === 'DaemonSet' || o.kind === 'Job'
        ? templateOf(spec(o).template)
        : o.kind === 'CronJob' && isObject(spec(o).jobTemplate)
          ? templateOf(spec(spec(o).jobTemplate as Json).template)
          : undefined;
    if (podSpec) {
      const kind = o.kind === 'DaemonSet' ? 'DaemonSet' : o.kind === 'StatefulSet' ? 'StatefulSet' : 'Deployment';
      out.push(fromPodSpec(id, namespace, podSpec, rendered.get(id) ?? podTemplateOf(id, kind, 1, {}, podSpec, layerOf(o)), accounts));
    } else if (o.kind === 'Cluster' && /^postgresql\.cnpg\.io\//.test(String(o.apiVersion))) {
      out.push(cnpgIdentity(o, layerOf(o)));
    } else if (o.kind === 'HelmRelease') {
      const releaseId = `HelmRelease/${namespace}/${String(meta(o).name)}`;
      const releaseNamespace = str(spec(o).targetNamespace) ?? namespace;
      const values: Json = isObject(spec(o).values) ? (spec(o).values as Json) : {};
      const hostNetworkKinds = postRenderedHostNetwork(o);
      const templates = renderedTemplates
        .filter((t) => t.id === releaseId || t.id.startsWith(`${releaseId}:`))
        .map((t) => (hostNetworkKinds.has('*') || hostNetworkKinds.has(t.kind) || valuesHostNetwork(values, t.id) ? { ...t, hostNetwork: true } : t));
      const found: Array<{ path: string; name: string | undefined; roleArn: string }> = [];
      valueAccounts(values, '', found);
      for (const t of templates) {
        const component = t.id.includes(':') ? t.id.slice(t.id.indexOf(':') + 1) : undefined;
        // The service account block of this component (`controller.serviceAccount`), else the chart's top-level one.
        const sa = found.find((f) => component !== undefined && f.path.startsWith(`${component}.`)) ?? found.find((f) => !found.some((g) => g !== f && g.path.length < f.path.length)) ?? undefined;
        const roleEnv = t.id === releaseId || component === undefined ? envValue(values.env ?? values.extraEnv, 'AWS_ROLE_ARN') : undefined;
        out.push({
          workload: t.id,
          namespace: releaseNamespace,
          serviceAccount: sa ? sa.name : undefined,
          envRoleArn: roleEnv,
          envTokenAudience: undefined,
          envTokenFile: undefined,
          annotationRoleArn: sa?.roleArn,
          template: t,
        });
      }
    }
  }
  return out;
}
