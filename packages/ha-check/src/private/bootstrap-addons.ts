import { load } from 'js-yaml';
import type { NodeGroupModel, PodTemplateModel } from '../model';
import type { TfResource } from '../terraform';
import { CHART_WORKLOADS, providesOf } from './chart-workloads';
import { podTemplate, podTemplateOf } from './pod-templates';
import { launchTemplate } from './tf-accessors';
import { readUserData } from './user-data';
import { isObject, type Json } from './values';

/**
 * The add-ons node-bootstrap installs with Helm on the first control-plane node, before Flux: the
 * values file it writes for each (`/etc/node-bootstrap/addons/<file>`), the chart and release.
 */
const BOOTSTRAP_ADDONS: ReadonlyArray<{ readonly file: string; readonly chart: string; readonly release: string; readonly namespace: string }> = [
  { file: '/etc/node-bootstrap/addons/cilium-values.yaml', chart: 'cilium', release: 'cilium', namespace: 'kube-system' },
  { file: '/etc/node-bootstrap/addons/ccm-values.yaml', chart: 'aws-cloud-controller-manager', release: 'aws-cloud-controller-manager', namespace: 'kube-system' },
  { file: '/etc/node-bootstrap/addons/flux-operator-values.yaml', chart: 'flux-operator', release: 'flux-operator', namespace: 'flux-system' },
];

/** The bootstrap add-ons of the first control-plane node's launch template, as pod templates. */
export function bootstrapAddons(controlPlane: ReadonlyArray<{ readonly group: NodeGroupModel; readonly template: TfResource | undefined }>): { addons: PodTemplateModel[]; source: string | undefined } {
  const first = [...controlPlane].sort((a, b) => a.group.name.localeCompare(b.group.name)).find((g) => g.template && launchTemplate(g.template).userData);
  if (!first?.template) return { addons: [], source: undefined };
  const files = readUserData(launchTemplate(first.template).userData ?? '').files;
  const addons: PodTemplateModel[] = [];
  const read: string[] = [];
  for (const a of BOOTSTRAP_ADDONS) {
    const text = files.get(a.file);
    if (text === undefined) continue;
    read.push(a.file.slice(a.file.lastIndexOf('/') + 1));
    const parsed = load(text);
    const values: Json = isObject(parsed) ? parsed : {};
    const release = { name: a.release, namespace: a.namespace, id: `bootstrap/${a.namespace}/${a.release}` };
    for (const c of CHART_WORKLOADS[a.chart](values, release)) {
      const id = c.component ? `${release.id}:${c.component}` : release.id;
      const template = podTemplateOf(id, c.kind, c.kind === 'DaemonSet' ? 0 : (c.replicas ?? 1), c.labels, c.podSpec, 'bootstrap');
      const provides = providesOf(a.chart, c.component, values);
      addons.push(provides ? podTemplate({ ...template, provides }) : template);
    }
  }
  return { addons, source: read.length > 0 ? `${first.template.address}: ${read.join(', ')}` : undefined };
}
