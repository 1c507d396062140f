import { AMI_LOCK, loadPlatform, platformInput, type Platform } from '@platform/platform-config';

/**
 * The shipped platform made real, as an operator does before the first apply: real-looking
 * allowed CIDRs, hosted zone, account id and resolved AMI ids, `example` removed. Validated like any other, so the tests of
 * `pipeline apply` run against a platform that may be applied (the shipped one is refused).
 */
export function realPlatform(): Platform {
  const { example: _example, ...settings } = platformInput.settings;
  return loadPlatform({
    settings: { ...settings, accountId: '210987654321', dns: { ...settings.dns, hostedZoneName: 'hakube.io', hostedZoneId: 'Z04178122G3ZKXW4BXQ1V' } },
    clusters: platformInput.clusters.map((cluster) => ({ ...cluster, apiEndpoint: { ...cluster.apiEndpoint, allowedCidrs: ['52.78.10.0/24'] } })),
    amiLock: Object.fromEntries(Object.entries(AMI_LOCK).map(([region, images], i) => [region, { x86_64: { ...images.x86_64!, imageId: `ami-0f3a9c1d2b4e5f60${i}` } }])),
  });
}
