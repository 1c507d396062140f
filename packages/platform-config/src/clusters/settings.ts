import type { PlatformSettingsInput } from '../cluster-definition';

export const settings: PlatformSettingsInput = {
  organization: 'hakube',
  github: { owner: 'hakube-platform', repository: 'ha-kube-platform', applyEnvironment: 'production', mainBranch: 'main' },
  // Placeholder id: replace with the real zone's id before the first apply.
  dns: { hostedZoneName: 'hakube.example.com', hostedZoneId: 'Z0HAKUBE', appRecord: 'app', ttlSeconds: 60 },
  state: { bucket: 'hakube-terraform-state', region: 'ap-northeast-2' },
};
