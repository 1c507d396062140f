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
  // A third region, outside the production/dr pair: Terraform and CI keep working while either
  // region is down (docs/runbooks/state-bootstrap.md). Moved from ap-northeast-2 with
  // `npm run pipeline:migrate-state` (the bucket name is global, so the new bucket has its own).
  state: { bucket: 'hakube-terraform-state-ap-southeast-1', region: 'ap-southeast-1' },
};
