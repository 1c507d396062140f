/* eslint-disable @typescript-eslint/no-explicit-any -- walks parsed YAML */
import { gitRepositoryUrl } from '@platform/core-addons';
import { defaultPlatform } from '@platform/platform-config';
import { App, Chart } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  addOnContext,
  AddOnRegistry,
  alertmanagerAlertsUrl,
  alertmanagerConfig,
  defaultAddOns,
  FAILURE_ALERT_KINDS,
  FLUX_COMMIT_STATUS_SECRET,
  FluxAlert,
  FluxNotifications,
  FluxProvider,
  KUBE_PROMETHEUS_STACK_RELEASE,
  type FluxAlertProps,
  type FluxProviderProps,
} from '../src';
import { chartDefaults } from './support/charts';

const platform = defaultPlatform();
const REPO = gitRepositoryUrl(platform.settings);
type K8s = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec: any };

const tree = (cluster: string) => new AddOnRegistry([...defaultAddOns(), new FluxNotifications()]).synth(addOnContext(platform, cluster));
const objectsOf = (files: Record<string, string>): K8s[] => Object.values(files).flatMap((f) => parseAllDocuments(f).map((d) => d.toJS() as K8s)).filter(Boolean);

describe('flux-notifications: Flux reports back', () => {
  it.each(platform.clusters.map((c) => c.name))('%s: a commit-status Provider for this repository, an Alertmanager Provider, and their Alerts', (cluster) => {
    const file = tree(cluster)['infrastructure/configs/flux-notifications.yaml'];
    expect(file).toBeDefined();
    const objects = objectsOf({ file: file! });
    for (const o of objects) expect([o.apiVersion, o.metadata.namespace]).toEqual(['notification.toolkit.fluxcd.io/v1beta3', 'flux-system']);
    const provider = (name: string) => objects.find((o) => o.kind === 'Provider' && o.metadata.name === name)!.spec;
    // The token is referenced by name only: no Secret (and no token) is in Git.
    expect(provider('github-commit-status')).toEqual({ type: 'github', address: REPO.replace(/\.git$/, ''), secretRef: { name: FLUX_COMMIT_STATUS_SECRET } });
    expect(objects.some((o) => o.kind === 'Secret')).toBe(false);
    expect(provider('alertmanager')).toEqual({ type: 'alertmanager', address: 'http://kube-prometheus-stack-alertmanager.monitoring.svc:9093/api/v2/alerts/' });
    const alert = (name: string) => objects.find((o) => o.kind === 'Alert' && o.metadata.name === name)!.spec;
    expect(alert('commit-status')).toEqual({ providerRef: { name: 'github-commit-status' }, eventSeverity: 'info', eventSources: [{ kind: 'Kustomization', name: '*', namespace: 'flux-system' }] });
    const failures = alert('reconcile-failures');
    expect(failures.providerRef).toEqual({ name: 'alertmanager' });
    expect(failures.eventSeverity).toBe('error');
    expect(failures.eventMetadata.cluster).toBe(cluster);
    expect([...new Set(failures.eventSources.map((s: any) => s.kind))]).toEqual(['Kustomization', 'HelmRelease', 'GitRepository', 'OCIRepository']);
  });

  it.each(platform.clusters.map((c) => c.name))('%s: every Kustomization, HelmRelease and OCIRepository the cluster runs is a source of the failure alert, and every Kustomization reports its commit status', (cluster) => {
    const files = tree(cluster);
    const objects = objectsOf(files);
    const failures = objects.find((o) => o.kind === 'Alert' && o.metadata.name === 'reconcile-failures')!.spec.eventSources as { kind: string; name: string; namespace: string }[];
    const watched = (kind: string, namespace: string) => failures.some((s) => s.kind === kind && s.name === '*' && s.namespace === namespace);
    const fluxObjects = objects.filter((o) => FAILURE_ALERT_KINDS.includes(o.kind as never) && o.apiVersion.includes('.toolkit.fluxcd.io/'));
    expect(fluxObjects.length).toBeGreaterThan(5);
    for (const o of fluxObjects) expect(watched(o.kind, o.metadata.namespace ?? 'default'), `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`).toBe(true);
    // The GitRepository and its Kustomization the FluxInstance makes (sync name, flux-system).
    expect(watched('GitRepository', 'flux-system')).toBe(true);
    // Statuses land on the commits Flux applies: every Kustomization syncs from the FluxInstance's GitRepository, whose URL is the provider's repository.
    const instance = objects.find((o) => o.kind === 'FluxInstance')!;
    expect(instance.spec.sync.url).toBe(REPO);
    expect(instance.spec.components).toContain('notification-controller');
    for (const k of objects.filter((o) => o.kind === 'Kustomization' && o.apiVersion.startsWith('kustomize.toolkit'))) {
      expect(k.metadata.namespace).toBe('flux-system');
      expect(k.spec.sourceRef).toMatchObject({ kind: 'GitRepository', name: instance.spec.sync.name });
    }
  });

  it("posts to the Service kube-prometheus-stack makes for Alertmanager: `<release>-alertmanager`, the chart's port and route prefix", () => {
    const values = chartDefaults(KUBE_PROMETHEUS_STACK_RELEASE.chart, KUBE_PROMETHEUS_STACK_RELEASE.version) as any;
    expect(values.fullnameOverride).toBe('');
    expect(values.alertmanager.service.port).toBe(9093);
    expect(values.alertmanager.alertmanagerSpec.routePrefix).toBe('/');
    // The chart's fullname is the release name when it contains the chart name (truncated at 26).
    expect(KUBE_PROMETHEUS_STACK_RELEASE.name.length).toBeLessThanOrEqual(26);
    expect(alertmanagerAlertsUrl()).toBe(`http://${KUBE_PROMETHEUS_STACK_RELEASE.name}-alertmanager.${KUBE_PROMETHEUS_STACK_RELEASE.namespace}.svc:${values.alertmanager.service.port}/api/v2/alerts/`);
  });

  /**
   * Alertmanager's routing tree as it evaluates an alert: the first child route whose matchers
   * all match takes it (no `continue`), else the root's receiver.
   */
  function receiverOf(config: any, labels: Record<string, string>): string {
    const matches = (matcher: string) => {
      const [, name, op, value] = /^(\w+) (=~|=) "(.*)"$/.exec(matcher)!;
      const actual = labels[name!] ?? '';
      return op === '=' ? actual === value : new RegExp(`^(?:${value})$`).test(actual);
    };
    return (config.route.routes as { receiver: string; matchers: string[] }[]).find((r) => r.matchers.every(matches))?.receiver ?? config.route.receiver;
  }

  it('reaches a receiver: the Alertmanager Provider labels the alert with the event severity (error), which the routes send on', () => {
    // Labels as notification-controller's alertmanager notifier builds them: the Alert's
    // eventMetadata, then alertname Flux<Kind><Reason>, severity = the event's severity, kind, name, namespace.
    const alert = { cluster: 'production', alertname: 'FluxHelmreleaseInstallfailed', severity: 'error', reason: 'InstallFailed', kind: 'HelmRelease', name: 'cilium', namespace: 'kube-system' };
    for (const kind of ['webhook', 'slack'] as const) expect(receiverOf(alertmanagerConfig(kind), alert)).toBe('warning');
    // Before the route existed, the event fell through to the null receiver.
    const before = alertmanagerConfig('webhook') as any;
    before.route.routes = before.route.routes.filter((r: { matchers: string[] }) => !r.matchers.includes('severity = "error"'));
    expect(receiverOf(before, alert)).toBe('null');
    expect(receiverOf(alertmanagerConfig('webhook'), { ...alert, alertname: 'Watchdog' })).toBe('null');
  });
});

describe('FluxProvider and FluxAlert validate the v1beta3 fields before creating anything', () => {
  const chart = () => new Chart(new App(), 'c');
  const github: FluxProviderProps = { name: 'gh', namespace: 'flux-system', type: 'github', address: 'https://github.com/o/r', secretRef: 'tok', gitRepositoryUrl: 'https://github.com/o/r.git' };
  const providerCases: [string, Partial<FluxProviderProps> & Record<string, unknown>, string][] = [
    ['an unknown type', { type: 'github-status' as never }, 'Provider flux-system/gh: spec.type is "github-status"; expected one of slack, discord, msteams, rocket, generic, generic-hmac, github, gitlab, gitea, bitbucketserver, bitbucket, azuredevops, googlechat, googlepubsub, webex, sentry, azureeventhub, telegram, lark, matrix, opsgenie, alertmanager, grafana, githubdispatch, pagerduty, datadog, nats'],
    ['alertmanager without address', { type: 'alertmanager', address: undefined, secretRef: undefined }, "Provider flux-system/gh: spec.address is undefined; required for type alertmanager (the Alertmanager's /api/v2/alerts/ URL)"],
    ['github without secretRef', { secretRef: undefined }, 'Provider flux-system/gh: spec.secretRef.name is undefined; required for type github (the Secret holding its token)'],
    ['github without the GitRepository URL', { gitRepositoryUrl: undefined }, 'Provider flux-system/gh: gitRepositoryUrl is undefined; required for type github: the URL of the GitRepository whose commits get the status'],
    ['github on another repository', { address: 'https://github.com/o/other' }, 'Provider flux-system/gh: spec.address is "https://github.com/o/other"; expected the GitRepository\'s repository https://github.com/o/r.git (statuses go to the commits Flux applied)'],
    ['github over http', { address: 'http://github.com/o/r' }, "Provider flux-system/gh: spec.address is \"http://github.com/o/r\"; expected the repository's https:// URL for type github"],
    ['an address that is no URL', { address: 'github.com/o/r' }, 'Provider flux-system/gh: spec.address is "github.com/o/r"; expected an http:// or https:// URL of at most 2048 characters'],
    ['a bad Secret name', { secretRef: 'Tok_en' }, 'Provider flux-system/gh: spec.secretRef.name is "Tok_en"; expected a Secret name'],
    ['a bad timeout', { timeout: 'soon' }, 'Provider flux-system/gh: spec.timeout is "soon"; expected a duration such as 15s'],
    ['a bad name', { name: 'GH' }, 'Provider flux-system/GH: metadata.name is "GH"; expected a DNS label (lowercase letters, digits, -; at most 63)'],
  ];
  it.each(providerCases)('Provider: %s', (_what, override, message) => {
    const c = chart();
    expect(() => new FluxProvider(c, 'p', { ...github, ...override } as FluxProviderProps)).toThrow(message);
    expect(c.toJson()).toEqual([]);
  });

  it('accepts the repository URL with or without .git, and an alertmanager with its address', () => {
    const c = chart();
    new FluxProvider(c, 'a', github);
    new FluxProvider(c, 'b', { ...github, name: 'gh2', address: 'https://github.com/o/r.git' });
    new FluxProvider(c, 'c', { name: 'am', namespace: 'flux-system', type: 'alertmanager', address: 'http://am.monitoring:9093/api/v2/alerts/' });
    expect(c.toJson()).toHaveLength(3);
  });

  const alertCases: [string, (p: { gh: FluxProvider; am: FluxProvider }) => Partial<FluxAlertProps>, string][] = [
    ['no event source', () => ({ eventSources: [] }), 'Alert flux-system/a: spec.eventSources is []; expected at least one event source'],
    ['an unknown kind', () => ({ eventSources: [{ kind: 'Deployment' as never, name: '*' }] }), 'Alert flux-system/a: spec.eventSources[0].kind is "Deployment"; expected one of Bucket, GitRepository, Kustomization, HelmRelease, HelmChart, HelmRepository, ImageRepository, ImagePolicy, ImageUpdateAutomation, OCIRepository'],
    ['an unknown severity', () => ({ eventSeverity: 'critical' as never }), 'Alert flux-system/a: spec.eventSeverity is "critical"; expected one of info, error'],
    ['a bad source name', () => ({ eventSources: [{ kind: 'HelmRelease', name: 'A B' }] }), 'Alert flux-system/a: spec.eventSources[0].name is "A B"; expected an object name or *'],
    ['a bad source namespace', () => ({ eventSources: [{ kind: 'HelmRelease', name: '*', namespace: 'Kube' }] }), 'Alert flux-system/a: spec.eventSources[0].namespace is "Kube"; expected a namespace name'],
    [
      'a commit status for a HelmRelease',
      ({ gh }) => ({ provider: gh, eventSources: [{ kind: 'Kustomization', name: '*' }, { kind: 'HelmRelease', name: '*' }] }),
      'Alert flux-system/a: spec.eventSources[1].kind is "HelmRelease"; expected Kustomization: provider gh (github) sets commit statuses',
    ],
  ];
  it.each(alertCases)('Alert: %s', (_what, override, message) => {
    const c = chart();
    const gh = new FluxProvider(c, 'gh', github);
    const am = new FluxProvider(c, 'am', { name: 'am', namespace: 'flux-system', type: 'alertmanager', address: 'http://am.monitoring:9093/api/v2/alerts/' });
    const props: FluxAlertProps = { name: 'a', provider: am, eventSeverity: 'error', eventSources: [{ kind: 'HelmRelease', name: '*' }], ...override({ gh, am }) };
    expect(() => new FluxAlert(c, 'a', props)).toThrow(message);
    expect(c.toJson()).toHaveLength(2);
  });

  it('FluxNotifications refuses an empty namespace list', () => {
    expect(() => new FluxNotifications({ namespaces: [] }).validate(addOnContext(platform, 'production'))).toThrow('flux-notifications: namespaces is []; expected at least one namespace');
  });
});
