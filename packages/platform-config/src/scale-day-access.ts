import { FAILOVER_ACCESS } from './failover-access';

/** One RBAC grant of scale day: these verbs on these resources of one API group, in one namespace or cluster-wide. */
export interface ScaleDayGrant {
  /** Namespace the grant holds in; undefined: cluster-wide (a list across namespaces, or a cluster-scoped resource). */
  readonly namespace?: string;
  /** API group ('' is the core group). */
  readonly group: string;
  /** `<resource>` or `<resource>/<subresource>` (a subresource is its own resource to RBAC). */
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  /** Only these objects by name. @default - every object of the resources */
  readonly resourceNames?: readonly string[];
  /** The scale-day call that needs it (shown when the API answers Forbidden). */
  readonly why: string;
}

const NAMESPACE = 'scale-day';
const SERVICE_ACCOUNT = 'scale-day';
const APP = { namespace: 'web', deployment: 'web', hpa: 'web' } as const;
// kubectl apply (get, then create or patch) and the clean-up after the run.
const MANAGE = ['get', 'create', 'patch', 'delete'] as const;

/**
 * What scale day (packages/pipeline `scale-day`) may do in a cluster, and as whom: the one list
 * k8s-addons `ScaleDayAccess` renders into RBAC and the pipeline reads (its Forbidden message,
 * and its tests check every call it makes is one of these grants).
 *
 * Scale day has its own ServiceAccount (`serviceAccount` in `namespace`). The runner reaches the
 * cluster with the CI kubeconfig the control plane publishes (`names.ssm.ciKubeconfig`, the
 * FAILOVER_ACCESS identity), whose only scale-day right is `tokenMinter`: creating a short-lived
 * token for scale day's ServiceAccount (TokenRequest). Every other call runs as that
 * ServiceAccount, so scale day never holds the failover identity's cluster-wide rights and the
 * audit log names it. The namespace is owned by GitOps (Pod Security `restricted`); the tool
 * never creates namespaces.
 */
export const SCALE_DAY_ACCESS = {
  namespace: NAMESPACE,
  serviceAccount: SERVICE_ACCOUNT,
  /** The app under load: the sample web app. */
  app: APP,
  grants: [
    { group: '', resources: ['nodes'], verbs: ['list'], why: 'Ready workers per AZ (nodes are cluster-scoped)' },
    { group: '', resources: ['pods'], verbs: ['list'], why: 'Pending pods in every namespace (shown, not judged)' },
    { namespace: APP.namespace, group: 'autoscaling', resources: ['horizontalpodautoscalers'], verbs: ['get'], resourceNames: [APP.hpa], why: "the app's HPA: bounds, current and desired replicas" },
    { namespace: APP.namespace, group: 'apps', resources: ['deployments'], verbs: ['get'], resourceNames: [APP.deployment], why: "the app's Deployment: selector and Ready replicas" },
    { namespace: APP.namespace, group: '', resources: ['pods'], verbs: ['list'], why: "the app's Pending pods (judged)" },
    { namespace: NAMESPACE, group: '', resources: ['configmaps'], verbs: MANAGE, why: "the run's k6 script: apply, delete" },
    { namespace: NAMESPACE, group: 'batch', resources: ['jobs'], verbs: MANAGE, why: "the run's load Job: apply, status, delete" },
    { namespace: NAMESPACE, group: '', resources: ['pods'], verbs: ['get', 'list'], why: "the k6 pod's phase; kubectl logs job/<name> finds it" },
    { namespace: NAMESPACE, group: '', resources: ['pods/log'], verbs: ['get'], why: "k6's summary line" },
  ] satisfies readonly ScaleDayGrant[] as readonly ScaleDayGrant[],
  /** The published CI identity may mint scale day's token, nothing else of scale day's. */
  tokenMinter: {
    subject: { namespace: FAILOVER_ACCESS.namespace, serviceAccount: FAILOVER_ACCESS.serviceAccount },
    grant: { namespace: NAMESPACE, group: '', resources: ['serviceaccounts/token'], verbs: ['create'], resourceNames: [SERVICE_ACCOUNT], why: "kubectl create token: scale day's own short-lived token" } satisfies ScaleDayGrant as ScaleDayGrant,
  },
  /** RBAC object names: the ClusterRole (and binding) for cluster-wide grants, a Role (and binding) per namespace. */
  clusterRole: 'scale-day-observer',
  roleIn: (namespace: string): string => (namespace === NAMESPACE ? 'scale-day-load' : 'scale-day-app'),
  tokenMinterRole: 'scale-day-token-minter',
} as const;

/** One line per grant: what the identity needs, for a Forbidden message or a runbook. */
export function describeScaleDayGrant(grant: ScaleDayGrant): string {
  const resources = grant.resources.map((r) => (grant.group ? `${r}.${grant.group}` : r)).join(', ');
  const names = grant.resourceNames ? ` (${grant.resourceNames.join(', ')})` : '';
  return `${grant.verbs.join('/')} ${resources}${names} ${grant.namespace ? `in ${grant.namespace}` : 'cluster-wide'}`;
}

/** One API request as RBAC sees it (verb, group, resource or resource/subresource, namespace, name). */
export interface ScaleDayRequest {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  /** Undefined: cluster-wide (a list across namespaces, or a cluster-scoped object). */
  readonly namespace?: string;
  readonly name?: string;
}

/** Whether `grant` covers `request` as RBAC would: a cluster-wide grant holds in every namespace, a named one only for requests naming its objects. */
export function scaleDayGrantCovers(grant: ScaleDayGrant, request: ScaleDayRequest): boolean {
  return (
    grant.group === request.group &&
    grant.resources.includes(request.resource) &&
    grant.verbs.includes(request.verb) &&
    (grant.namespace === undefined || grant.namespace === request.namespace) &&
    (!grant.resourceNames || (request.name !== undefined && grant.resourceNames.includes(request.name)))
  );
}
