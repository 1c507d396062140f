import { addonFiles } from './private/addons';
import { envEntries, envFile } from './private/env-file';
import { ETCD_PATCH_FILE, etcdDataDirPatch, KUBE_APISERVER_PATCH_FILE, KUBEADM_PATCHES_DIR, NODE_BOOTSTRAP_ETC, KUBEADM_UPGRADE_CONFIG, kubeadmInitTemplate, kubeadmJoinTemplate, kubeadmUpgradeConfiguration, kubeApiServerIssuerPatch, KUBELET_RESERVES_PATCH, kubeletReservesPatch } from './private/kubeadm-config';
import { architecturesOf, bootstrapNames, imdsFenced } from '@platform/platform-config';
import { debianArchitecture, missingPins } from './download-lock';
import { toolVersions } from './versions';
import { bundleObject, FETCH_BUNDLE } from './private/script-bundle';
import { systemdUnits } from './private/units';
import { yamlText } from './private/yaml-text';
import type { UserDataInput } from './user-data-input';

const ETC = NODE_BOOTSTRAP_ETC;
const LIB = '/opt/node-bootstrap';

function validate(input: UserDataInput): void {
  if (input.role === 'worker' && !input.pool) throw new Error(`renderUserData: pool is required for role worker (cluster ${input.cluster.name})`);
  if (input.role === 'control-plane' && input.pool) {
    throw new Error(`renderUserData: pool ${input.pool.name} given for role control-plane; expected none (cluster ${input.cluster.name})`);
  }
  if (input.pool && !input.cluster.workerPools.some((p) => p.name === input.pool?.name)) {
    throw new Error(`renderUserData: pool ${input.pool.name} is not a worker pool of cluster ${input.cluster.name}; expected one of ${input.cluster.workerPools.map((p) => p.name).join(', ')}`);
  }
  // Every file the node downloads must have a committed SHA-256 (a node would refuse it unpinned).
  const missing = missingPins(toolVersions(input.cluster), [...architecturesOf(input.cluster).keys()].map(debianArchitecture));
  if (missing.length > 0) throw new Error(`renderUserData: cluster ${input.cluster.name}: ${missing.join('; ')}; expected a pin for every download of its versions and architectures`);
  const unusable = (name: string) => !name || /[\s'"\\]/.test(name);
  if (unusable(input.apiEndpoint)) {
    throw new Error(`renderUserData: apiEndpoint ${JSON.stringify(input.apiEndpoint)} is not usable; expected a DNS name or a Terraform token string without spaces or quotes`);
  }
  if (input.apiExternalEndpoint !== undefined && unusable(input.apiExternalEndpoint)) {
    throw new Error(`renderUserData: apiExternalEndpoint ${JSON.stringify(input.apiExternalEndpoint)} is not usable; expected a DNS name or a Terraform token string without spaces or quotes`);
  }
  if (unusable(input.bundleVersionId)) {
    throw new Error(`renderUserData: bundleVersionId ${JSON.stringify(input.bundleVersionId)} is not usable; expected an S3 version id or a Terraform token string without spaces or quotes`);
  }
  (input.apiAlternateNames ?? []).forEach((name, i) => {
    if (unusable(name)) {
      throw new Error(`renderUserData: apiAlternateNames[${i}] ${JSON.stringify(name)} is not usable; expected a DNS name or a Terraform token string without spaces or quotes`);
    }
  });
}

/**
 * Renders cloud-init user-data (plain text, `#cloud-config`). Infrastructure gzips and
 * base64-encodes it in Terraform (`base64gzip`) so tokens inside resolve first; the text
 * therefore holds no `"`, `\`, `${` or `%{` besides `apiEndpoint`, `apiExternalEndpoint`, `apiAlternateNames`
 * and `bundleVersionId` themselves (the scripts are fetched from S3, see `FETCH_BUNDLE`).
 */
export function renderUserData(input: UserDataInput): string {
  validate(input);
  const { cluster, role } = input;
  // cloud-init's defaults (root:root, 0644) are left out: every byte counts against 16 KB.
  const text = (path: string, content: string, permissions?: string) => (permissions ? { path, permissions, content } : { path, content });
  const files = [
    text(`${ETC}/env`, envFile(envEntries(input))),
    text(`${ETC}/kubeadm-join.yaml.tmpl`, kubeadmJoinTemplate(input.apiEndpoint, input.pool), '0600'),
    // This node's kubelet reserves: its pool's instance types, or the control plane's.
    text(`${KUBEADM_PATCHES_DIR}/${KUBELET_RESERVES_PATCH}`, kubeletReservesPatch(input.pool ? input.pool.instanceTypes : [cluster.controlPlane.instanceType])),
    // `kubeadm upgrade node --config` with it keeps the patches above (workers: their kubelet reserves).
    text(KUBEADM_UPGRADE_CONFIG, kubeadmUpgradeConfiguration()),
  ];
  if (role === 'control-plane') {
    files.push(text(`${ETC}/kubeadm-init.yaml.tmpl`, kubeadmInitTemplate(cluster, input.apiEndpoint, input.apiAlternateNames), '0600'));
    // Read by kubeadm init, join and upgrade node (patches.directory): this node's service-account flags, in its stage's order.
    files.push(text(`${KUBEADM_PATCHES_DIR}/${KUBE_APISERVER_PATCH_FILE}`, yamlText(kubeApiServerIssuerPatch(input.names.serviceAccountIssuer, cluster.serviceAccountIdentity)), '0600'));
    files.push(text(`${KUBEADM_PATCHES_DIR}/${ETCD_PATCH_FILE}`, yamlText(etcdDataDirPatch()), '0600'));
    for (const [name, content] of Object.entries(addonFiles(cluster, input.settings, input.names))) files.push(text(`${ETC}/addons/${name}`, content));
  }
  // The scripts live in S3 (bootstrapBucket, one object per role); the SHA-256 here makes every
  // script change a launch-template change, so it rolls through the normal plan. node-bootstrap.service
  // fetches them itself (ExecStartPre=), so its restarts retry a failed fetch.
  const fetchArgs = [cluster.region, input.names.bootstrapBucket, bootstrapNames(input.names).bundleKey(role), input.bundleVersionId, bundleObject(role).sha256];
  for (const [name, content] of Object.entries(systemdUnits(role, cluster, fetchArgs))) files.push(text(`/etc/systemd/system/${name}`, content));
  const config = {
    write_files: [...files, text(`${LIB}/fetch-bundle.py`, FETCH_BUNDLE, '0600')],
    runcmd: [
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'enable', 'node-bootstrap.service'],
      ['systemctl', 'start', '--no-block', 'node-bootstrap.service'],
      ...(imdsFenced(cluster) ? [['systemctl', 'enable', '--now', 'imds-fence.timer']] : []),
    ],
  };
  return `#cloud-config\n${yamlText(config)}`;
}
