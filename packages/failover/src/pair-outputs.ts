import type { Platform } from '@platform/platform-config';
import type { FailoverOptions } from './options';
import { resolvePair } from './plans';

/**
 * `key=value` lines for $GITHUB_OUTPUT: which clusters a run touches, their regions and the
 * SSM parameters holding their kubeconfigs, so the workflow never retypes a name.
 * `aws_region` is the region that is up during the run: the standby's while promoting or
 * fencing (the primary's may be gone), the primary's at fail-back.
 */
export function pairOutputs(platform: Platform, options: FailoverOptions): string {
  const { primary, standby } = resolvePair(platform, options);
  const lines = {
    primary: primary.name,
    primary_region: primary.region,
    primary_kubeconfig_parameter: platform.namesOf(primary).ssm.ciKubeconfig,
    standby: standby.name,
    standby_region: standby.region,
    standby_kubeconfig_parameter: platform.namesOf(standby).ssm.ciKubeconfig,
    aws_region: options.action === 'failback' ? primary.region : standby.region,
  };
  return Object.entries(lines).map(([k, v]) => `${k}=${v}\n`).join('');
}
