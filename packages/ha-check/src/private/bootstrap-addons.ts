import { load } from 'js-yaml';
import type { NodeGroupModel, PodTemplateModel } from '../model';
import type { TfResource } from '../terraform';
import { CHART_WORKLOADS, providesOf } from './chart-workloads';
import { podTemplate, podTemplateOf } from './pod-templates';
import { launchTemplate } from './tf-accessors';
import { HaCheckInputError } from '../input-error';
import { exactVersion, renderedValues, sharedStoredCharts, type StoredCharts } from './stored-charts';
import { envFile, readUserData } from './user-data';
import { isObject, type Json } from './values';

/**
 * The add-ons node-bootstrap installs with Helm on the first control-plane node, before Flux: the
 * values file it writes for each (`/etc/node-bootstrap/addons/<file>`), the chart and release.
 */
const BOOTSTRAP_ADDONS: ReadonlyArray<{ readonly file: string; readonly chart: string; readonly release: string; readonly namespace: string; readonly versionVariable: string }> = [
  { file: '/etc/node-bootstrap/addons/cilium-values.yaml', chart: 'cilium', release: 'cilium', namespace: 'kube-system', versionVariable: 'CILIUM_VERSION' },
  { file: '/etc/node-bootstrap/addons/ccm-values.yaml', chart: 'aws-cloud-controller-manager', release: 'aws-cloud-controller-manager', namespace: 'kube-system', versionVariable: 'CCM_VERSION' },
  { file: '/etc/node-bootstrap/addons/flux-operator-values.yaml', chart: 'flux-operator', release: 'flux-operator', namespace: 'flux-system', versionVariable: 'FLUX_OPERATOR_VERSION' },
];
const ENV_FILE = '/etc/node-bootstrap/env';

/**
 * The bootstrap add-ons of the first control-plane node's launch template, as pod templates. A chart
 * with stored defaults is read at the version install-addons.sh installs (its env file's
 * `<CHART>_VERSION`), its values coalesced over that version's values.yaml.
 */
export function bootstrapAddons(controlPlane: ReadonlyArray<{ readonly group: NodeGroupModel; readonly template: TfResource | undefined }>, charts: StoredCharts = sharedStoredCharts()): { addons: PodTemplateModel[]; source: string | undefined } {
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
    const given: Json = isObject(parsed) ? parsed : {};
    const release = { name: a.release, namespace: a.namespace, id: `bootstrap/${a.namespace}/${a.release}` };
    const model = CHART_WORKLOADS[a.chart];
    let values = given;
    if (model.defaults === 'stored') {
      const version = envFile(files.get(ENV_FILE) ?? '').get(a.versionVariable);
      if (!exactVersion(version)) {
        throw new HaCheckInputError(`${first.template.address}: user data ${ENV_FILE} ${a.versionVariable} ${version === undefined ? 'is not set' : JSON.stringify(version)}: expected the exact ${a.chart} chart version install-addons.sh installs, so that ha-check judges that version's defaults`);
      }
      values = renderedValues(charts, a.chart, version, release.id, given, model.subcharts);
    }
    for (const c of model.extract(values, release)) {
      const id = c.component ? `${release.id}:${c.component}` : release.id;
      const template = podTemplateOf(id, c.kind, c.kind === 'DaemonSet' ? 0 : (c.replicas ?? 1), c.labels, c.podSpec, 'bootstrap');
      const provides = providesOf(a.chart, c.component, values);
      addons.push(provides ? podTemplate({ ...template, provides }) : template);
    }
  }
  return { addons, source: read.length > 0 ? `${first.template.address}: ${read.join(', ')}` : undefined };
}
