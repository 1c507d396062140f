import type { PlatformSettingsInput } from '../cluster-definition';

export const settings: PlatformSettingsInput = {
  // The shipped platform has no real account: its allowed CIDRs are documentation ranges and
  // its hosted zone is made up, so it synthesizes and plans offline but is never applied.
  // To apply it, set real values and remove this line (README, "Making the platform real").
  example: true,
  organization: 'hakube',
  // Placeholder (example: true): AWS's documentation account id, also moto's default account.
  accountId: '123456789012',
  github: { owner: 'hakube-platform', repository: 'ha-kube-platform', applyEnvironment: 'production', mainBranch: 'main' },
  // Placeholders (example: true): the zone you own and its id before the first apply.
  dns: { hostedZoneName: 'hakube.example.com', hostedZoneId: 'Z0HAKUBE', appRecord: 'app', ttlSeconds: 60 },
  state: { bucket: 'hakube-terraform-state', region: 'ap-northeast-2' },
};
