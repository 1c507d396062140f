import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { anonymousPull, RegistryError, type RegistryAuth } from './registry';
import { ecrRegionOfRepository, type AppCatalog, type RegistryAuthMode } from '@platform/platform-config';

/*
 * How the registry client proves who it is to a repository's registry: one small strategy per
 * catalog `registryAuth` mode. Credentials come from the job's environment (the workflow's OIDC
 * role for ECR, a GitHub token in env for ghcr.io), never from argv, and are never logged.
 */

export interface EcrPullProps {
  readonly region: string;
  /** @default `aws ecr get-login-password --region <region>` with the job's AWS credentials (the OIDC role) */
  readonly loginPassword?: (region: string) => Promise<string>;
}

async function awsLoginPassword(region: string): Promise<string> {
  try {
    return (await promisify(execFile)('aws', ['ecr', 'get-login-password', '--region', region], { encoding: 'utf8' })).stdout.trim();
  } catch (e) {
    // stderr only (the password is stdout): typically no role assumed, or one without ecr:GetAuthorizationToken.
    const stderr = String((e as { stderr?: unknown }).stderr ?? '').trim().split('\n')[0];
    throw new RegistryError(`aws ecr get-login-password --region ${region}: failed${stderr ? ` (${stderr})` : ''}; expected the job's AWS role (registryAuth ecr) with ecr:GetAuthorizationToken and ecr:BatchGetImage`);
  }
}

/** Private ECR: Basic `AWS:<password>` from `aws ecr get-login-password` (valid 12 hours; asked once per client). */
export function ecrPull(props: EcrPullProps): RegistryAuth {
  let password: Promise<string> | undefined;
  return {
    description: `ECR credentials for ${props.region} (the job's AWS role)`,
    credentialed: true,
    async credentials() {
      // A failure is not kept: the next request asks again.
      password ??= (props.loginPassword ?? awsLoginPassword)(props.region).catch((e: unknown) => {
        password = undefined;
        throw e;
      });
      return { username: 'AWS', password: await password };
    },
  };
}

/** The environment variable the release workflow puts the job's GITHUB_TOKEN (packages: read) in for ghcr.io. */
export const REGISTRY_GITHUB_TOKEN_ENV = 'REGISTRY_GITHUB_TOKEN';

/** ghcr.io private packages: the GitHub token as Basic credentials to the token realm (any user name is accepted). */
export function githubTokenPull(env: NodeJS.ProcessEnv = process.env): RegistryAuth {
  return {
    description: `the GitHub token in ${REGISTRY_GITHUB_TOKEN_ENV}`,
    credentialed: true,
    async credentials() {
      const token = env[REGISTRY_GITHUB_TOKEN_ENV];
      if (!token) throw new RegistryError(`${REGISTRY_GITHUB_TOKEN_ENV}: not set; expected the job's GITHUB_TOKEN with packages: read (registryAuth github-token)`);
      return { username: 'github-actions', password: token };
    },
  };
}

/** The strategy for one catalog mode and repository. */
export function registryAuthFor(mode: RegistryAuthMode, repository: string, env: NodeJS.ProcessEnv = process.env): RegistryAuth {
  switch (mode) {
    case 'anonymous':
      return anonymousPull();
    case 'github-token':
      return githubTokenPull(env);
    case 'ecr': {
      const region = ecrRegionOfRepository(repository);
      if (!region) throw new RegistryError(`${repository}: registryAuth ecr on a repository that is not on an ECR host (<account>.dkr.ecr.<region>.amazonaws.com)`);
      return ecrPull({ region });
    }
  }
}

/** The client's `auth` for the apps of `catalog`: each repository as its app's `registryAuth` says, anonymous otherwise. */
export function catalogRegistryAuth(catalog: AppCatalog, env: NodeJS.ProcessEnv = process.env): (repository: string) => RegistryAuth {
  const modes = new Map(Object.values(catalog.apps).map((a) => [a.repository, a.registryAuth]));
  // One strategy per repository: ECR's password is asked once per run, not per request.
  const strategies = new Map<string, RegistryAuth>();
  return (repository) => {
    if (!strategies.has(repository)) strategies.set(repository, registryAuthFor(modes.get(repository) ?? 'anonymous', repository, env));
    return strategies.get(repository)!;
  };
}
