import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCALE_DAY_ACCESS } from '@platform/platform-config';
import { parse, stringify } from 'yaml';
import type { KubeClient } from '../../io/kubectl';

/** The API's shortest TokenRequest (10 min); a shorter --duration is refused. */
const MIN_TOKEN_SECONDS = 600;

/** How long the run's token must live: the load Job's deadline, the 30 s grace scale day samples past it, and the clean-up. */
export function scaleDayTokenSeconds(loadDeadlineSeconds: number): number {
  return Math.max(MIN_TOKEN_SECONDS, loadDeadlineSeconds + 30 + 120);
}

/** The kubeconfig `text` (its clusters and contexts) with every user authenticating by `token` alone. */
export function kubeconfigWithToken(text: string, token: string): string {
  const config = parse(text) as { users?: Array<{ name: string; user: unknown }> } | null;
  if (!config || !Array.isArray(config.users) || config.users.length === 0) throw new Error('the CI kubeconfig has no users: cannot swap its credentials for scale day\'s token');
  return stringify({ ...config, users: config.users.map((u) => ({ name: u.name, user: { token } })) });
}

/**
 * Scale day's own identity from the CI one: the published CI kubeconfig (the failover
 * ServiceAccount) may only create scale day's ServiceAccount token (SCALE_DAY_ACCESS.tokenMinter);
 * every later call runs with that token, so the run holds exactly SCALE_DAY_ACCESS.grants.
 * The kubeconfig is written beside the CI one (mode 0600) and the client for it returned.
 */
export function asScaleDay(ci: { kube: KubeClient; kubeconfigText: string }, outDir: string, cluster: string, seconds: number, client: (kubeconfig: string) => KubeClient): KubeClient {
  const token = ci.kube.createToken(SCALE_DAY_ACCESS.namespace, SCALE_DAY_ACCESS.serviceAccount, seconds);
  if (!token) throw new Error(`kubectl create token ${SCALE_DAY_ACCESS.serviceAccount} -n ${SCALE_DAY_ACCESS.namespace} printed no token`);
  const path = join(outDir, `kubeconfig-${cluster}-scale-day`);
  writeFileSync(path, kubeconfigWithToken(ci.kubeconfigText, token), { mode: 0o600 });
  return client(path);
}
