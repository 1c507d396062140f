import type { UserDataInput } from './user-data-input';

/**
 * Renders cloud-init user-data (plain text, `#cloud-config`). Infrastructure gzips and
 * base64-encodes it in Terraform (`base64gzip`) so tokens inside resolve first.
 */
export function renderUserData(input: UserDataInput): string {
  // Interim rendering until the kubeadm bootstrap lands (issue 4).
  return ['#cloud-config', `hostname: ${input.names.cluster}-${input.role}`, ''].join('\n');
}
