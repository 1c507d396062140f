import { kubernetesMinor, type ClusterDefinition } from '@platform/platform-config';
import { IMAGES_BY_KUBERNETES_MINOR } from '../releases';

/** Image tags matching the cluster's Kubernetes minor; throws naming the version when unknown. */
export function imagesFor(cluster: ClusterDefinition) {
  const minor = kubernetesMinor(cluster.kubernetesVersion);
  const images = IMAGES_BY_KUBERNETES_MINOR[minor];
  if (!images) {
    throw new Error(`cluster ${cluster.name}: kubernetesVersion ${cluster.kubernetesVersion} has no pinned add-on images; expected a minor in ${Object.keys(IMAGES_BY_KUBERNETES_MINOR).join(', ')}`);
  }
  return images;
}
