import type { PlatformSettingsInput } from '../cluster-definition';

export const settings: PlatformSettingsInput = {
  organization: 'hakube',
  github: { owner: 'hakube-platform', repository: 'ha-kube-platform', applyEnvironment: 'production', mainBranch: 'main' },
  dns: { hostedZoneName: 'hakube.example.com', appRecord: 'app', ttlSeconds: 60 },
  state: { bucket: 'hakube-terraform-state', region: 'ap-northeast-2' },
};
