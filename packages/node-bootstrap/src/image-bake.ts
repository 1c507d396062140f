import type { ClusterDefinition } from '@platform/platform-config';
import { missingPins, type DebianArchitecture } from './download-lock';
import { envFile, toolEnvEntries } from './private/env-file';
import { filesScript } from './private/script-bundle';
import { toolVersions } from './versions';

/** The scripts the image bake ships: node-prep.sh and the helpers it sources, unchanged. */
export const IMAGE_BAKE_SCRIPTS = ['lib.sh', 'node-prep.sh'] as const;

/**
 * The bash an EC2 Image Builder component runs on the build instance: it writes lib.sh,
 * node-prep.sh and the download pins to /opt/node-bootstrap (where the bundle puts them on a
 * node), an env file with `ROLE=image` and the tool versions every node of this Kubernetes
 * version pins, then runs node-prep.sh. So the image holds exactly what node-prep would install
 * (containerd/runc, kubeadm/kubelet/kubectl held, AWS CLI, etcdctl/etcdutl, helm) and the marker
 * `node-prep.done`, which a node booted from it matches: it downloads nothing.
 */
export function imageBakeScript(cluster: Pick<ClusterDefinition, 'name' | 'kubernetesVersion'>, architecture: DebianArchitecture): string {
  const missing = missingPins(toolVersions(cluster), [architecture]);
  if (missing.length > 0) throw new Error(`imageBakeScript: cluster ${cluster.name} (Kubernetes ${cluster.kubernetesVersion}, ${architecture}): ${missing.join('; ')}`);
  const prelude = ['#!/usr/bin/env bash', 'set -euo pipefail', 'install -d -m 0755 /opt/node-bootstrap /etc/node-bootstrap', 'cd /opt/node-bootstrap'];
  const env = envFile([['ROLE', 'image'], ...toolEnvEntries(cluster)]);
  return `${filesScript(IMAGE_BAKE_SCRIPTS, prelude)}cat >/etc/node-bootstrap/env <<'NODE_BOOTSTRAP_EOF'\n${env}NODE_BOOTSTRAP_EOF\nbash /opt/node-bootstrap/node-prep.sh\n`;
}
