import { load } from 'js-yaml';
import type { K8sObject } from '../manifests';
import type { PodTemplateModel } from '../model';
import { chartHostNetwork } from './chart-defaults';
import { podTemplate, podTemplateOf } from './pod-templates';
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
  /**
   * `AWS_STS_REGIONAL_ENDPOINTS=legacy`: the SDK calls the global `sts.amazonaws.com`, which an STS
   * interface endpoint's private DNS does not answer for. @default false (the regional name)
   */
  readonly stsGlobal?: boolean;
  /** The service account's annotation (its ServiceAccount object, a CNPG serviceAccountTemplate or chart values). */
  readonly annotationRoleArn: string | undefined;
  readonly template: PodTemplateModel;
  /**
   * The uid its sockets are created with (`securityContext.runAsUser`, the container's over the
   * pod's; a HelmRelease's `podSecurityContext`/`securityContext` values). undefined: the image's
   * user, unknown here. node-bootstrap's IMDS fence lets one uid through.
   */
  readonly runAsUser?: number;
}

const uidOf = (v: unknown): number | undefined => (isObject(v) && typeof v.runAsUser === 'number' ? v.runAsUser : undefined);

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
  const legacy = containers.some((c) => envValue(c.env, 'AWS_STS_REGIONAL_ENDPOINTS') === 'legacy');
  const uid = arr(podSpec.containers).map((c) => uidOf(c.securityContext)).find((x) => x !== undefined) ?? uidOf(podSpec.securityContext);
  return {
    workload,
    ...(uid !== undefined ? { runAsUser: uid } : {}),
    namespace,
    serviceAccount,
    ...(legacy ? { stsGlobal: true } : {}),
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

interface Found<T> {
  /** Dotted path in the values (`controller.serviceAccount`), or `postRenderers` for a patch. */
  readonly path: string;
  /** A post-renderer patch's target kind (`*`: every kind); undefined for values. */
  readonly kind?: string;
  readonly value: T;
}

/**
 * What a chart's values (or a post-renderer patch) say about AWS wiring, wherever the chart keeps
 * it: service-account blocks (`serviceAccount`, `rbac.serviceAccount`, `controller.serviceAccount`:
 * `name` and the role annotation, else the annotation of the ServiceAccount object it names) or a
 * `serviceAccountName` value,
 * `AWS_ROLE_ARN` / `AWS_WEB_IDENTITY_TOKEN_FILE` in any env list or map, and projected
 * `serviceAccountToken` sources.
 */
class ChartWiring {
  readonly accounts: Array<Found<{ name: string | undefined; roleArn: string | undefined }>> = [];
  readonly roleArns: Array<Found<string>> = [];
  readonly tokenFiles: Array<Found<string>> = [];
  readonly tokens: Array<Found<{ path: string; audience: string }>> = [];

  constructor(
    private readonly namespace: string,
    private readonly serviceAccounts: ReadonlyMap<string, string | undefined>,
  ) {}

  walk(value: unknown, path: string, kind: string | undefined, key = ''): void {
    const at = <T>(v: T): Found<T> => ({ path, value: v, ...(kind ? { kind } : {}) });
    if (Array.isArray(value)) {
      for (const item of value) this.walk(item, path, kind, key);
      return;
    }
    if (!isObject(value)) return;
    const annotation = annotationOf({ metadata: value });
    if (/^serviceAccount$/i.test(key) || annotation !== undefined) {
      const name = str(value.name);
      this.accounts.push(at({ name, roleArn: annotation ?? (name ? this.serviceAccounts.get(`${this.namespace}/${name}`) : undefined) }));
    }
    // Charts that name the account by one value (aws-cloud-controller-manager's `serviceAccountName`).
    if (typeof value.serviceAccountName === 'string') this.accounts.push(at({ name: value.serviceAccountName, roleArn: this.serviceAccounts.get(`${this.namespace}/${value.serviceAccountName}`) }));
    if (value.name === 'AWS_ROLE_ARN' && typeof value.value === 'string') this.roleArns.push(at(value.value));
    if (value.name === 'AWS_WEB_IDENTITY_TOKEN_FILE' && typeof value.value === 'string') this.tokenFiles.push(at(value.value));
    if (/env$/i.test(key) && typeof value.AWS_ROLE_ARN === 'string') this.roleArns.push(at(value.AWS_ROLE_ARN));
    if (/env$/i.test(key) && typeof value.AWS_WEB_IDENTITY_TOKEN_FILE === 'string') this.tokenFiles.push(at(value.AWS_WEB_IDENTITY_TOKEN_FILE));
    if (isObject(value.serviceAccountToken)) this.tokens.push(at({ path: String(value.serviceAccountToken.path ?? 'token'), audience: str(value.serviceAccountToken.audience) ?? '(the API server audience)' }));
    for (const [k, v] of Object.entries(value)) if (k !== 'annotations') this.walk(v, kind === undefined ? (path ? `${path}.${k}` : k) : path, kind, k);
  }

  /**
   * The entry for a rendered component: a patch of its kind, its own block (`<component>.…`), else
   * the shallowest one outside every component's block (another component's is not its own).
   */
  static pick<T>(found: ReadonlyArray<Found<T>>, component: string | undefined, kind: string, components: readonly string[]): T | undefined {
    const patched = found.find((f) => f.kind !== undefined && (f.kind === '*' || f.kind === kind));
    if (patched) return patched.value;
    const values = found.filter((f) => f.kind === undefined);
    const own = component === undefined ? undefined : values.find((f) => f.path.startsWith(`${component}.`));
    const shared = values.filter((f) => !components.some((c) => f.path.startsWith(`${c}.`)));
    return (own ?? [...shared].sort((a, b) => a.path.split('.').length - b.path.split('.').length)[0])?.value;
  }
}

/** Post-renderer patches, parsed (JSON6902 op lists or strategic-merge objects), with their target kind. */
function postRendererPatches(release: Json): Array<{ kind: string; patch: unknown }> {
  const out: Array<{ kind: string; patch: unknown }> = [];
  for (const r of arr(spec(release).postRenderers)) {
    const kustomize = isObject(r.kustomize) ? r.kustomize : {};
    for (const p of arr(kustomize.patches)) {
      try {
        out.push({ kind: isObject(p.target) ? String(p.target.kind ?? '*') : '*', patch: typeof p.patch === 'string' ? load(p.patch) : p.patch });
      } catch {
        // An unparsable patch: Flux fails the release; nothing to read from it.
      }
    }
    for (const p of arr(kustomize.patchesStrategicMerge)) out.push({ kind: String(p.kind ?? '*'), patch: p });
  }
  return out;
}

/** Kinds the post-renderer patches turn to `hostNetwork: true` (`/spec/template/spec/hostNetwork`, or a strategic merge). */
function postRenderedHostNetwork(patches: ReadonlyArray<{ kind: string; patch: unknown }>): Set<string> {
  const kinds = new Set<string>();
  for (const { kind, patch } of patches) {
    const template = isObject(patch) && isObject(spec(patch).template) ? (spec(patch).template as Json) : undefined;
    if (arr(patch).some((op) => op.path === '/spec/template/spec/hostNetwork' && op.value === true) || (template !== undefined && spec(template).hostNetwork === true)) kinds.add(kind);
  }
  return kinds;
}

/**
 * `hostNetwork: true` for a release's component: the chart's default (chart-defaults.ts) unless its
 * values key says otherwise, else the values of our release, for its main workload (top level) or
 * a component (`<component>.hostNetwork`).
 */
function valuesHostNetwork(values: Json, id: string, chart: string | undefined): boolean {
  const component = id.includes(':') ? id.slice(id.indexOf(':') + 1) : undefined;
  const byChart = chartHostNetwork(chart, component, values);
  if (byChart !== undefined) return byChart;
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
      out.push(...helmReleaseIdentities(o, renderedTemplates, accounts, layerOf(o)));
    }
  }
  return out;
}

/** A HelmRelease's pod identities: the pod templates rendered from its values, wired as its values and patches say. */
function helmReleaseIdentities(o: K8sObject, renderedTemplates: readonly PodTemplateModel[], serviceAccounts: ReadonlyMap<string, string | undefined>, layer: string): PodIdentity[] {
  const releaseId = `HelmRelease/${String(meta(o).namespace ?? 'default')}/${String(meta(o).name)}`;
  const namespace = str(spec(o).targetNamespace) ?? String(meta(o).namespace ?? 'default');
  const values: Json = isObject(spec(o).values) ? (spec(o).values as Json) : {};
  const patches = postRendererPatches(o);
  const chartSpec = isObject(spec(o).chart) ? spec(spec(o).chart as Json) : {};
  const chart = str(chartSpec.chart);
  const hostNetworkKinds = postRenderedHostNetwork(patches);
  const wiring = new ChartWiring(namespace, serviceAccounts);
  wiring.walk(values, '', undefined);
  for (const p of patches) wiring.walk(p.patch, 'postRenderers', p.kind);
  const rendered = renderedTemplates.filter((t) => t.id === releaseId || t.id.startsWith(`${releaseId}:`));
  // A chart ha-check renders nothing of (no extractor) but whose values wire a role: one pod template from the common keys.
  const wired = wiring.accounts.some((a) => a.value.roleArn !== undefined) || wiring.roleArns.length > 0;
  const templates = rendered.length > 0 || !wired ? rendered : [podTemplateOf(releaseId, 'Deployment', 1, {}, { nodeSelector: values.nodeSelector, tolerations: values.tolerations, affinity: values.affinity, hostNetwork: values.hostNetwork }, layer)];
  const componentOf = (t: PodTemplateModel): string | undefined => (t.id.includes(':') ? t.id.slice(t.id.indexOf(':') + 1) : undefined);
  const components = templates.map(componentOf).filter((c): c is string => c !== undefined);
  return templates.map((t): PodIdentity => {
    const component = componentOf(t);
    const sa = ChartWiring.pick(wiring.accounts, component, t.kind, components);
    const tokenFile = ChartWiring.pick(wiring.tokenFiles, component, t.kind, components);
    // The projected source the file names (mount path + its path); none in sight: the chart mounts it, not judged.
    const token = tokenFile === undefined ? undefined : wiring.tokens.find((x) => tokenFile.endsWith(`/${x.value.path}`))?.value;
    const scope = component !== undefined ? (isObject(values[component]) ? (values[component] as Json) : {}) : values;
    const uid = uidOf(scope.securityContext) ?? uidOf(scope.podSecurityContext);
    return {
      workload: t.id,
      ...(uid !== undefined ? { runAsUser: uid } : {}),
      namespace,
      serviceAccount: sa?.name,
      envRoleArn: ChartWiring.pick(wiring.roleArns, component, t.kind, components),
      envTokenAudience: token?.audience,
      envTokenFile: token ? tokenFile : undefined,
      annotationRoleArn: sa?.roleArn,
      template: hostNetworkKinds.has('*') || hostNetworkKinds.has(t.kind) || valuesHostNetwork(values, t.id, chart) ? podTemplate({ ...t, hostNetwork: true }) : t,
    };
  });
}
