/**
 * Kubernetes minor versions the bootstrap scripts and add-on charts are tested with.
 * Older minors are out of upstream support; newer ones are not yet validated here.
 */
export const SUPPORTED_KUBERNETES_MINORS: readonly string[] = ['1.32', '1.33', '1.34'];

/** `1.34.1` → `1.34`. */
export function kubernetesMinor(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}
