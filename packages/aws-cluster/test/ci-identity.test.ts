import { Testing } from 'cdktf';
import { describe, expect, it } from 'vitest';
import { CiIdentityStack, GithubCiRoles, StateBackend } from '../src';
import { bareStack, platform, Synth, synthStack, type Attributes } from './support';

describe('CiIdentityStack', () => {
  const shipped = platform();
  const synth = synthStack(new CiIdentityStack(Testing.app(), 'ci-identity', { platform: shipped }));
  const role = (name: string) => synth.values('aws_iam_role').find((r) => r.name === name) as Attributes;
  const trust = (name: string) => Synth.policy(role(name).assume_role_policy).Statement[0];

  it('trusts GitHub OIDC tokens for sts.amazonaws.com only', () => {
    const [provider] = synth.values('aws_iam_openid_connect_provider');
    expect(provider).toMatchObject({ url: 'https://token.actions.githubusercontent.com', client_id_list: ['sts.amazonaws.com'] });
  });

  it('trusts the plan role for this repository\'s pull requests only', () => {
    expect(trust('hakube-github-plan')).toEqual({
      Effect: 'Allow',
      Principal: { Federated: expect.stringMatching(/^\$\{aws_iam_openid_connect_provider\..*\.arn\}$/) },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com', 'token.actions.githubusercontent.com:sub': ['repo:hakube-platform/ha-kube-platform:pull_request'] } },
    });
  });

  it('trusts the apply role for the production environment and main branch only, from platform-config', () => {
    expect(trust('hakube-github-apply').Condition.StringEquals['token.actions.githubusercontent.com:sub']).toEqual([
      'repo:hakube-platform/ha-kube-platform:environment:production',
      'repo:hakube-platform/ha-kube-platform:ref:refs/heads/main',
    ]);
    expect(trust('hakube-github-apply').Condition.StringEquals['token.actions.githubusercontent.com:sub']).toEqual(shipped.names.ciSubjects.apply);
  });

  it('keeps plan read-only apart from the state lock file', () => {
    const attached = synth.values('aws_iam_role_policy_attachment').map((a) => a.policy_arn).sort();
    expect(attached).toEqual(['arn:aws:iam::aws:policy/AdministratorAccess', 'arn:aws:iam::aws:policy/ReadOnlyAccess']);
    const [inline] = synth.values('aws_iam_role_policy');
    const writes = Synth.policy(inline.policy).Statement.filter((s: Attributes) => [s.Action].flat().some((a: string) => a.startsWith('s3:Put')));
    expect(writes).toEqual([expect.objectContaining({ Resource: 'arn:aws:s3:::hakube-terraform-state/*.tflock' })]);
  });

  it('stores its state under its own key with native locking', () => {
    expect(synth.json.terraform.backend.s3).toEqual({ bucket: 'hakube-terraform-state', key: 'ci-identity/terraform.tfstate', region: 'ap-northeast-2', encrypt: true, use_lockfile: true });
    expect(Object.keys(synth.json.output).sort()).toEqual(['apply_role_arn', 'oidc_provider_arn', 'plan_role_arn']);
  });

  it('keeps state in the working directory with StateBackend.local()', () => {
    const local = synthStack(new CiIdentityStack(Testing.app(), 'ci-identity', { platform: shipped, backend: StateBackend.local() }));
    expect(local.json.terraform.backend).toEqual({ local: { path: 'terraform.tfstate' } });
  });

  describe('validation', () => {
    const props = { repository: 'o/r', planRoleName: 'p', applyRoleName: 'a', stateBucket: 'b' };
    const build = (plan: string[], apply: string[] = ['repo:o/r:ref:refs/heads/main']) => () => new GithubCiRoles(bareStack(), 'ci', { ...props, subjects: { plan, apply } });
    it('rejects no subject', () => {
      expect(build([])).toThrow('GithubCiRoles: props.subjects.plan = []; expected at least one OIDC subject');
    });
    it('rejects a wildcard subject', () => {
      expect(build(['repo:o/r:*'])).toThrow('GithubCiRoles: props.subjects.plan[0] = "repo:o/r:*"; expected an exact subject of repo:o/r (no wildcards)');
    });
    it('rejects another repository\'s subject', () => {
      expect(build(['repo:o/r:pull_request'], ['repo:o/other:ref:refs/heads/main'])).toThrow('GithubCiRoles: props.subjects.apply[0] = "repo:o/other:ref:refs/heads/main"; expected an exact subject of repo:o/r (no wildcards)');
    });
  });
});
