import { describe, expect, it } from 'vitest';
import { SERVICE_ACCOUNT_IDENTITY_STAGES, ServiceAccountIdentity, serviceAccountIdentityMoveProblem } from './service-account-identity';
import { defaultPlatform } from './default-platform';

describe('ServiceAccountIdentity stages', () => {
  it('each stage changes one aspect relative to the one before (one reviewed step each)', () => {
    const aspects = SERVICE_ACCOUNT_IDENTITY_STAGES.map((s) => ServiceAccountIdentity.of(s));
    const changed = aspects.slice(1).map((next, i) => {
      const { stage: _a, ...before } = aspects[i];
      const { stage: _b, ...after } = next;
      return Object.keys(after).filter((k) => JSON.stringify(after[k as keyof typeof after]) !== JSON.stringify(before[k as keyof typeof before]));
    });
    // (b) signs with the issuer, (c) switches the pods, (d) removes the node rights and the user together.
    expect(changed).toEqual([['apiServer'], ['podCredentials'], ['nodeRolesKeepAddOnRights', 'legacyBackupUser']]);
    expect(ServiceAccountIdentity.acceptIssuer()).toMatchObject({ apiServer: { signs: 'legacy' }, podCredentials: 'node-role', nodeRolesKeepAddOnRights: true, legacyBackupUser: true });
  });

  it('the shipped clusters are complete', () => {
    const platform = defaultPlatform();
    expect(platform.clusters.map((c) => [c.name, c.serviceAccountIdentity.stage])).toEqual(platform.clusters.map((c) => [c.name, 'complete']));
  });

  it('a pull request moves a cluster one stage forward or back, never out of complete', () => {
    expect(serviceAccountIdentityMoveProblem('production', 'accept-issuer', 'sign-with-issuer')).toBeUndefined();
    expect(serviceAccountIdentityMoveProblem('production', 'web-identity', 'web-identity')).toBeUndefined();
    expect(serviceAccountIdentityMoveProblem('production', 'web-identity', 'sign-with-issuer')).toBeUndefined();
    expect(serviceAccountIdentityMoveProblem('production', 'accept-issuer', 'web-identity')).toBe(
      'cluster production: serviceAccountIdentity moves from accept-issuer to web-identity (2 stages) in one pull request; expected one stage at a time (accept-issuer → sign-with-issuer → web-identity → complete), next: sign-with-issuer',
    );
    expect(serviceAccountIdentityMoveProblem('staging', 'web-identity', 'accept-issuer')).toBe(
      'cluster staging: serviceAccountIdentity moves back from web-identity to accept-issuer (2 stages) in one pull request; expected at most one stage back (accept-issuer → sign-with-issuer → web-identity → complete)',
    );
    expect(serviceAccountIdentityMoveProblem('dr', 'complete', 'web-identity')).toBe(
      "cluster dr: serviceAccountIdentity moves from complete to web-identity; a complete cluster stays complete (its backup user and the node roles' add-on rights are gone)",
    );
  });
});
