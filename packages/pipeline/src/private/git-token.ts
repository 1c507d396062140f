/**
 * The environment for a git command that talks to GitHub with `GITHUB_TOKEN`: the same
 * `http.<server>/.extraheader` that actions/checkout writes, but handed to git through
 * `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_<n>`/`GIT_CONFIG_VALUE_<n>` (git ≥ 2.31), so the token never lands
 * in `.git/config` (where every later step, and an uploaded workspace, would find it) nor in a
 * command line. Without a token the environment is returned unchanged (a local remote in tests).
 */
export function gitTokenEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const token = env.GITHUB_TOKEN;
  if (!token) return env;
  const server = (env.GITHUB_SERVER_URL ?? 'https://github.com').replace(/\/+$/, '');
  // Entries another caller already passed this way are kept: ours is appended after them.
  const index = Number.parseInt(env.GIT_CONFIG_COUNT ?? '0', 10) || 0;
  return {
    ...env,
    GIT_CONFIG_COUNT: String(index + 1),
    [`GIT_CONFIG_KEY_${index}`]: `http.${server}/.extraheader`,
    [`GIT_CONFIG_VALUE_${index}`]: `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`,
  };
}
