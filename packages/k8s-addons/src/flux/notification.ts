import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';

/**
 * Typed Flux notification-controller objects (`notification.toolkit.fluxcd.io/v1beta3`
 * Provider and Alert). The notification CRDs are not vendored in `crds/`, so no generated
 * import and no schema test covers them: the fields, enums and required values the API
 * documents (fluxcd.io, Notification API reference v1beta3) are checked here instead, before
 * anything is created.
 */
export const FLUX_NOTIFICATION_API_VERSION = 'notification.toolkit.fluxcd.io/v1beta3';

/** `ProviderSpec.type`: the values the v1beta3 CRD's enum admits. */
export const FLUX_PROVIDER_TYPES = [
  'slack',
  'discord',
  'msteams',
  'rocket',
  'generic',
  'generic-hmac',
  'github',
  'gitlab',
  'gitea',
  'bitbucketserver',
  'bitbucket',
  'azuredevops',
  'googlechat',
  'googlepubsub',
  'webex',
  'sentry',
  'azureeventhub',
  'telegram',
  'lark',
  'matrix',
  'opsgenie',
  'alertmanager',
  'grafana',
  'githubdispatch',
  'pagerduty',
  'datadog',
  'nats',
] as const;
export type FluxProviderType = (typeof FLUX_PROVIDER_TYPES)[number];

/**
 * Providers that set a Git commit status: their address is the repository (the controller
 * reads owner and repository from it) and the commit is the revision of the event's source.
 */
export const COMMIT_STATUS_PROVIDER_TYPES: readonly FluxProviderType[] = ['github', 'gitlab', 'gitea', 'bitbucketserver', 'bitbucket', 'azuredevops'];

/** Providers that cannot authenticate without a Secret (a token, or the webhook URL itself). */
const SECRET_REQUIRED: readonly FluxProviderType[] = [...COMMIT_STATUS_PROVIDER_TYPES, 'githubdispatch'];

/** `CrossNamespaceObjectReference.kind` of an Alert's event source: the v1beta3 CRD's enum. */
export const FLUX_EVENT_SOURCE_KINDS = [
  'Bucket',
  'GitRepository',
  'Kustomization',
  'HelmRelease',
  'HelmChart',
  'HelmRepository',
  'ImageRepository',
  'ImagePolicy',
  'ImageUpdateAutomation',
  'OCIRepository',
] as const;
export type FluxEventSourceKind = (typeof FLUX_EVENT_SOURCE_KINDS)[number];

/** `AlertSpec.eventSeverity`: `info` forwards every event, `error` only failures. */
export const FLUX_EVENT_SEVERITIES = ['info', 'error'] as const;
export type FluxEventSeverity = (typeof FLUX_EVENT_SEVERITIES)[number];

/** A wrong Provider or Alert field: names the object, the field, the value and what is allowed. */
export class FluxNotificationError extends Error {
  constructor(object: string, field: string, value: unknown, expected: string) {
    super(`${object}: ${field} is ${JSON.stringify(value)}; ${expected}`);
    this.name = 'FluxNotificationError';
  }
}

const DNS_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** The repository part of a Git URL, as the commit-status providers compare it: no scheme case, no `.git`, no trailing `/`. */
const repositoryOf = (url: string) => url.trim().replace(/\/+$/, '').replace(/\.git$/, '').toLowerCase();

function checkMetadata(what: string, name: string, namespace: string): void {
  if (!DNS_NAME.test(name)) throw new FluxNotificationError(what, 'metadata.name', name, 'expected a DNS label (lowercase letters, digits, -; at most 63)');
  if (!DNS_NAME.test(namespace)) throw new FluxNotificationError(what, 'metadata.namespace', namespace, 'expected a namespace name');
}

export interface FluxProviderProps {
  readonly name: string;
  readonly namespace: string;
  readonly type: FluxProviderType;
  /**
   * Where events go. Required for `alertmanager` (its `/api/v2/alerts/` URL) and for the
   * commit-status types (the repository's HTTPS URL, which must be `gitRepositoryUrl`).
   * @default none (for types that read it from the Secret)
   */
  readonly address?: string;
  /**
   * Name of a Secret in the Provider's namespace: the token for commit statuses. Referenced by
   * name only; it is created by hand (never in Git). Required for the commit-status types.
   * @default none
   */
  readonly secretRef?: string;
  /**
   * The URL of the GitRepository whose Kustomizations report to this Provider. Required for
   * the commit-status types: a status set on another repository's commit would never show.
   * @default none
   */
  readonly gitRepositoryUrl?: string;
  /** Time to wait for the provider's answer. @default none (the controller's default) */
  readonly timeout?: string;
}

/** A notification-controller Provider, validated against the v1beta3 API before it is created. */
export class FluxProvider extends ApiObject {
  readonly providerName: string;
  readonly providerType: FluxProviderType;
  readonly providerNamespace: string;

  constructor(scope: Construct, id: string, props: FluxProviderProps) {
    const what = `Provider ${props.namespace}/${props.name}`;
    checkMetadata(what, props.name, props.namespace);
    if (!FLUX_PROVIDER_TYPES.includes(props.type)) throw new FluxNotificationError(what, 'spec.type', props.type, `expected one of ${FLUX_PROVIDER_TYPES.join(', ')}`);
    const commitStatus = COMMIT_STATUS_PROVIDER_TYPES.includes(props.type);
    if (props.address !== undefined && (props.address.length > 2048 || !/^https?:\/\/[^\s/]+/.test(props.address))) {
      throw new FluxNotificationError(what, 'spec.address', props.address, 'expected an http:// or https:// URL of at most 2048 characters');
    }
    if ((props.type === 'alertmanager' || commitStatus) && !props.address) {
      throw new FluxNotificationError(what, 'spec.address', props.address, `required for type ${props.type} (${props.type === 'alertmanager' ? "the Alertmanager's /api/v2/alerts/ URL" : 'the repository URL'})`);
    }
    if (SECRET_REQUIRED.includes(props.type) && !props.secretRef) throw new FluxNotificationError(what, 'spec.secretRef.name', props.secretRef, `required for type ${props.type} (the Secret holding its token)`);
    if (props.secretRef !== undefined && !DNS_NAME.test(props.secretRef)) throw new FluxNotificationError(what, 'spec.secretRef.name', props.secretRef, 'expected a Secret name');
    if (commitStatus) {
      if (!props.gitRepositoryUrl) throw new FluxNotificationError(what, 'gitRepositoryUrl', props.gitRepositoryUrl, `required for type ${props.type}: the URL of the GitRepository whose commits get the status`);
      if (!props.address!.startsWith('https://')) throw new FluxNotificationError(what, 'spec.address', props.address, `expected the repository's https:// URL for type ${props.type}`);
      if (repositoryOf(props.address!) !== repositoryOf(props.gitRepositoryUrl)) {
        throw new FluxNotificationError(what, 'spec.address', props.address, `expected the GitRepository's repository ${props.gitRepositoryUrl} (statuses go to the commits Flux applied)`);
      }
    }
    if (props.timeout !== undefined && !/^(\d+(ms|s|m))+$/.test(props.timeout)) throw new FluxNotificationError(what, 'spec.timeout', props.timeout, 'expected a duration such as 15s');
    super(scope, id, {
      apiVersion: FLUX_NOTIFICATION_API_VERSION,
      kind: 'Provider',
      metadata: { name: props.name, namespace: props.namespace },
      spec: {
        type: props.type,
        ...(props.address ? { address: props.address } : {}),
        ...(props.secretRef ? { secretRef: { name: props.secretRef } } : {}),
        ...(props.timeout ? { timeout: props.timeout } : {}),
      },
    });
    this.providerName = props.name;
    this.providerType = props.type;
    this.providerNamespace = props.namespace;
  }
}

export interface FluxEventSource {
  readonly kind: FluxEventSourceKind;
  /** Object name, or `*` for every object of the kind in the namespace. */
  readonly name: string;
  /** @default the Alert's namespace */
  readonly namespace?: string;
}

export interface FluxAlertProps {
  readonly name: string;
  /** The Provider to send to; the Alert lives in its namespace (`providerRef` is a local reference). */
  readonly provider: FluxProvider;
  readonly eventSeverity: FluxEventSeverity;
  readonly eventSources: readonly FluxEventSource[];
  /** Added to every event (Alertmanager labels, commit status descriptions). @default none */
  readonly eventMetadata?: Readonly<Record<string, string>>;
  /** Go regular expressions of messages to drop. @default none */
  readonly exclusionList?: readonly string[];
}

/** A notification-controller Alert: which objects' events go to which Provider. */
export class FluxAlert extends ApiObject {
  constructor(scope: Construct, id: string, props: FluxAlertProps) {
    const namespace = props.provider.providerNamespace;
    const what = `Alert ${namespace}/${props.name}`;
    checkMetadata(what, props.name, namespace);
    if (!FLUX_EVENT_SEVERITIES.includes(props.eventSeverity)) throw new FluxNotificationError(what, 'spec.eventSeverity', props.eventSeverity, `expected one of ${FLUX_EVENT_SEVERITIES.join(', ')}`);
    if (props.eventSources.length === 0) throw new FluxNotificationError(what, 'spec.eventSources', props.eventSources, 'expected at least one event source');
    props.eventSources.forEach((source, i) => {
      if (!FLUX_EVENT_SOURCE_KINDS.includes(source.kind)) throw new FluxNotificationError(what, `spec.eventSources[${i}].kind`, source.kind, `expected one of ${FLUX_EVENT_SOURCE_KINDS.join(', ')}`);
      if (source.name !== '*' && !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(source.name)) throw new FluxNotificationError(what, `spec.eventSources[${i}].name`, source.name, 'expected an object name or *');
      if (source.namespace !== undefined && !DNS_NAME.test(source.namespace)) throw new FluxNotificationError(what, `spec.eventSources[${i}].namespace`, source.namespace, 'expected a namespace name');
      // Only a Kustomization's events carry the revision of the Git commit it applied: a commit
      // status for any other kind names no commit and the controller drops it.
      if (COMMIT_STATUS_PROVIDER_TYPES.includes(props.provider.providerType) && source.kind !== 'Kustomization') {
        throw new FluxNotificationError(what, `spec.eventSources[${i}].kind`, source.kind, `expected Kustomization: provider ${props.provider.providerName} (${props.provider.providerType}) sets commit statuses`);
      }
    });
    super(scope, id, {
      apiVersion: FLUX_NOTIFICATION_API_VERSION,
      kind: 'Alert',
      metadata: { name: props.name, namespace },
      spec: {
        providerRef: { name: props.provider.providerName },
        eventSeverity: props.eventSeverity,
        eventSources: props.eventSources.map((s) => ({ kind: s.kind, name: s.name, ...(s.namespace ? { namespace: s.namespace } : {}) })),
        ...(props.eventMetadata ? { eventMetadata: { ...props.eventMetadata } } : {}),
        ...(props.exclusionList ? { exclusionList: [...props.exclusionList] } : {}),
      },
    });
  }
}
