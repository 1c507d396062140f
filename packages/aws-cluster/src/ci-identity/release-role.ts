import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { Construct } from 'constructs';
import { policyDocument, renderPolicy, type PolicyDocument, type PolicyStatement } from '../iam/policy-document';
import { invalidProp } from '../private/validation';
import { githubTrustPolicy } from './github-ci-roles';

export interface ReleaseRoleProps {
  /** ARN of the GitHub OIDC provider (GithubCiRoles.oidcProviderArn). */
  readonly oidcProviderArn: string;
  /** `owner/repository`: the subject must belong to it. */
  readonly repository: string;
  readonly roleName: string;
  /** The release environment's exact `sub` (platform-config `names.ciSubjects.release`): `repo:<repository>:environment:<name>`. */
  readonly subjects: readonly string[];
  /**
   * The private ECR repositories the release flow reads (platform-config
   * `releaseEcrRepositoryArns`), exact ARNs. Empty: the role may only ask for an ECR token,
   * which reads nothing by itself.
   */
  readonly ecrRepositoryArns: readonly string[];
  /**
   * IAM MaxSessionDuration, 3600 to 43200 s; covers the release jobs' 20-minute timeout.
   * @default 3600
   */
  readonly sessionSeconds?: number;
}

/** An exact private ECR repository ARN (no wildcard), in the commercial or China partition. */
const ECR_REPOSITORY_ARN = /^arn:aws(-cn)?:ecr:[a-z0-9-]+:\d{12}:repository\/[a-z0-9][a-z0-9._\/-]*$/;

/**
 * What the release and promotion jobs do in AWS (pipeline io/registry-auth.ts `ecrPull`, and
 * `cosign verify` when the catalog asks for it): `ecr get-login-password` (GetAuthorizationToken,
 * which IAM only grants on `*`), then manifest reads (HEAD/GET `/v2/<name>/manifests/<ref>`:
 * BatchGetImage) and, for a signature, its layer (GetDownloadUrlForLayer), on the catalog's
 * repositories only. They never push: images are pushed by the application's own repository.
 */
export function releasePolicy(repositoryArns: readonly string[]): PolicyDocument {
  const statements: PolicyStatement[] = [{ Sid: 'EcrSignIn', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' }];
  if (repositoryArns.length > 0) {
    statements.push({ Sid: 'ReadCatalogImages', Effect: 'Allow', Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], Resource: [...repositoryArns] });
  }
  return policyDocument(...statements);
}

/**
 * The role of the app-release workflow (`environment: app-release`): trusted only for that
 * environment's exact subject and the STS audience, allowed only `releasePolicy`. Not the apply
 * role: a release opens a pull request, it changes no infrastructure.
 */
export class ReleaseRole extends Construct {
  readonly roleArn: string;

  constructor(scope: Construct, id: string, props: ReleaseRoleProps) {
    super(scope, id);
    const sessionSeconds = props.sessionSeconds ?? 3600;
    if (!Number.isInteger(sessionSeconds) || sessionSeconds < 3600 || sessionSeconds > 43200) {
      throw invalidProp('ReleaseRole', 'sessionSeconds', sessionSeconds, 'a whole number of seconds from 3600 to 43200 (IAM MaxSessionDuration)');
    }
    if (props.subjects.length === 0) throw invalidProp('ReleaseRole', 'subjects', props.subjects, 'at least one OIDC subject');
    props.subjects.forEach((subject, i) => {
      if (!new RegExp(`^repo:${props.repository.replace(/[.]/g, '\\.')}:environment:[^*?:]+$`).test(subject)) {
        throw invalidProp('ReleaseRole', `subjects[${i}]`, subject, `an exact environment subject of repo:${props.repository} (repo:${props.repository}:environment:<name>, no wildcards)`);
      }
    });
    props.ecrRepositoryArns.forEach((arn, i) => {
      if (!ECR_REPOSITORY_ARN.test(arn)) throw invalidProp('ReleaseRole', `ecrRepositoryArns[${i}]`, arn, 'an exact ECR repository ARN: arn:aws:ecr:<region>:<account>:repository/<name> (no wildcards)');
    });
    const role = new IamRole(this, 'role', {
      name: props.roleName,
      description: `application release and promotion of ${props.repository}: ECR sign-in and image reads of the catalog's repositories`,
      assumeRolePolicy: renderPolicy(githubTrustPolicy(props.oidcProviderArn, props.subjects)),
      maxSessionDuration: sessionSeconds,
    });
    new IamRolePolicy(this, 'ecr-reads', { name: 'app-release', role: role.name, policy: renderPolicy(releasePolicy(props.ecrRepositoryArns)) });
    this.roleArn = role.arn;
  }
}
