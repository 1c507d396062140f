import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultPlatform } from '@platform/platform-config';

/** The AWS provider's filesystem mirror (tools/install-provider-mirror.sh). */
export const PROVIDER_MIRROR = '/opt/tf-plugins';

/**
 * The environment terraform and the AWS CLI run in against the emulator: providers from the
 * mirror (a CLI config written into `workRoot`), dummy credentials, every AWS CLI call to
 * `endpoint`, no shared AWS config or profile of the machine.
 */
export function emulatorEnv(options: { readonly binDir: string; readonly workRoot: string; readonly endpoint: string }): NodeJS.ProcessEnv {
  const cliConfig = join(options.workRoot, 'mirror.tfrc');
  writeFileSync(cliConfig, `provider_installation {\n  filesystem_mirror {\n    path = ${JSON.stringify(PROVIDER_MIRROR)}\n  }\n}\n`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${options.binDir}:${process.env.PATH}`,
    TF_CLI_CONFIG_FILE: cliConfig,
    TF_IN_AUTOMATION: '1',
    CHECKPOINT_DISABLE: '1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_SESSION_TOKEN: 'testing',
    AWS_EC2_METADATA_DISABLED: 'true',
    // Route 53 is global; the CLI still wants a region for its client.
    AWS_DEFAULT_REGION: defaultPlatform().settings.state.region,
    // Anything that reads the shared endpoint setting (the AWS CLI) goes to moto too.
    AWS_ENDPOINT_URL: options.endpoint,
    AWS_CONFIG_FILE: join(options.workRoot, 'aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(options.workRoot, 'aws-credentials'),
  };
  delete env.AWS_PROFILE;
  return env;
}
