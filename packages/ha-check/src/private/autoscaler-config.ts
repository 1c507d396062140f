import type { AutoscalerModel } from '../model';
import { isObject, type Json } from './values';

/** cluster-autoscaler's `--scan-interval` default. */
export const AUTOSCALER_SCAN_INTERVAL_SECONDS = 10;
/** cluster-autoscaler's `--max-node-provision-time` default (15m). */
export const AUTOSCALER_MAX_NODE_PROVISION_SECONDS = 900;

/** `true`/`false` as a flag or value gives it (a bare `--flag` is true); undefined otherwise. */
function flagBool(value: unknown): boolean | undefined {
  if (value === true || value === 'true' || value === '') return true;
  if (value === false || value === 'false') return false;
  return undefined;
}

/** A Go duration as the autoscaler's flags take it (`10s`, `1m`, `1m30s`) in seconds; undefined when not one. */
function goDuration(value: unknown): number | undefined {
  const text = String(value ?? '').trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text)) return undefined;
  let seconds = 0;
  for (const [, n, , unit] of text.matchAll(/(\d+(\.\d+)?)(ms|s|m|h)/g)) seconds += Number(n) * { ms: 0.001, s: 1, m: 60, h: 3600 }[unit as 'ms' | 's' | 'm' | 'h'];
  return seconds;
}

/** `asg:tag=k1,k2=v` → the tags (a key, or `key=value`) an ASG must all carry. */
function discoveryFlag(flag: string): string[] | undefined {
  const m = /^asg:tag=(.*)$/.exec(flag.trim());
  return m ? m[1].split(',').map((t) => t.trim()).filter((t) => t !== '') : undefined;
}

/** The model from what the flags say, the binary's defaults for what they leave out. */
function autoscalerModel(source: string, tags: string[] | undefined, groups: string[], scan: number | undefined, provision: number | undefined, balance: boolean): AutoscalerModel {
  return {
    source,
    discoveryTags: tags,
    groupNames: groups,
    scanIntervalSeconds: scan ?? AUTOSCALER_SCAN_INTERVAL_SECONDS,
    scanIntervalSource: scan !== undefined ? 'configured' : 'default',
    maxNodeProvisionSeconds: provision ?? AUTOSCALER_MAX_NODE_PROVISION_SECONDS,
    balanceSimilarNodeGroups: balance,
  };
}

/**
 * What the cluster-autoscaler chart (9.x) turns its values into: `--node-group-auto-discovery=asg:tag=<tags>`
 * only when `autoDiscovery.clusterName` is set (tags run through `tpl`, default `k8s.io/cluster-autoscaler/enabled`
 * and `k8s.io/cluster-autoscaler/<clusterName>`), `--nodes=<min>:<max>:<name>` per `autoscalingGroups` entry,
 * and `extraArgs.scan-interval`.
 */
export function autoscalerFromValues(values: Json, source: string): AutoscalerModel {
  const discovery = isObject(values.autoDiscovery) ? values.autoDiscovery : {};
  const clusterName = typeof discovery.clusterName === 'string' && discovery.clusterName !== '' ? discovery.clusterName : undefined;
  const rawTags = Array.isArray(discovery.tags) ? discovery.tags.map(String) : ['k8s.io/cluster-autoscaler/enabled', 'k8s.io/cluster-autoscaler/{{ .Values.autoDiscovery.clusterName }}'];
  const tags = clusterName === undefined ? undefined : rawTags.map((t) => t.replace(/\{\{\s*\.Values\.autoDiscovery\.clusterName\s*\}\}/g, clusterName));
  const groups = Array.isArray(values.autoscalingGroups) ? values.autoscalingGroups.filter(isObject).map((g) => String(g.name ?? '')).filter((n) => n !== '') : [];
  const extraArgs = isObject(values.extraArgs) ? values.extraArgs : {};
  const scan = goDuration(extraArgs['scan-interval']);
  return autoscalerModel(source, tags, groups, scan, goDuration(extraArgs['max-node-provision-time']), flagBool(extraArgs['balance-similar-node-groups']) ?? false);
}

/** The same from a container's command line (a cluster-autoscaler Deployment in the manifests). */
export function autoscalerFromArgs(args: readonly string[], source: string): AutoscalerModel {
  let tags: string[] | undefined;
  const groups: string[] = [];
  let scan: number | undefined;
  let provision: number | undefined;
  let balance = false;
  for (const arg of args) {
    const [flag, ...rest] = arg.replace(/^--?/, '').split('=');
    const value = rest.join('=');
    if (flag === 'node-group-auto-discovery') tags = [...(tags ?? []), ...(discoveryFlag(value) ?? [])];
    if (flag === 'nodes') groups.push(value.split(':').slice(2).join(':'));
    if (flag === 'scan-interval') scan = goDuration(value);
    if (flag === 'max-node-provision-time') provision = goDuration(value);
    if (flag === 'balance-similar-node-groups') balance = flagBool(rest.length === 0 ? '' : value) ?? false;
  }
  return autoscalerModel(source, tags, groups, scan, provision, balance);
}

/** Does the autoscaler manage this ASG (every discovery tag present, `key=value` by value too, or listed by name)? */
export function discovers(autoscaler: AutoscalerModel, asgName: string, asgTags: Readonly<Record<string, string>>): boolean {
  if (autoscaler.groupNames.includes(asgName)) return true;
  const tags = autoscaler.discoveryTags;
  if (tags === undefined || tags.length === 0) return false;
  return tags.every((t) => {
    const eq = t.indexOf('=');
    return eq < 0 ? Object.hasOwn(asgTags, t) : asgTags[t.slice(0, eq)] === t.slice(eq + 1);
  });
}
