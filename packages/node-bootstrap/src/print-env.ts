import { defaultPlatform } from '@platform/platform-config';
import { envEntries, envFile } from './private/env-file';

/**
 * The control-plane parameter file of a cluster, for operators running the scripts from a
 * workstation (docs/runbooks/etcd-restore.md): `npx tsx packages/node-bootstrap/src/print-env.ts production`.
 */
export function operatorEnv(clusterName: string): string {
  const platform = defaultPlatform();
  const cluster = platform.cluster(clusterName);
  return envFile(envEntries({ role: 'control-plane', cluster, settings: platform.settings, names: platform.namesOf(cluster), apiEndpoint: 'api-endpoint-not-needed', bundleVersionId: 'not-needed' }));
}

if (require.main === module) {
  process.stdout.write(operatorEnv(process.argv[2] ?? ''));
}
