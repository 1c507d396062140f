import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CORE_ADDONS, FLUX_INSTANCE_NAMES, fluxGitSync } from '@platform/core-addons';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import type { UserDataInput } from '../src';
import { callsOf, initialisedControlPlanes, inputFor, parameterNotFound, platform, type Rule, type SecretManifest } from './harness';

// The Git Secret and parameter, from the one source of truth.
const GIT = platform.namesOf('production').ssm.gitCredentials;
const SECRET_REF = `${FLUX_INSTANCE_NAMES.namespace}/${FLUX_INSTANCE_NAMES.gitSecret}`;
const TOKEN = 'github_pat_EXAMPLETOKEN';
const HELM: Rule = { cmd: 'helm', args: 'version --short', stdout: 'v3.19.0+g1\n' };
const gitParameter = (rule: Partial<Rule>): Rule => ({ cmd: 'aws', args: `ssm get-parameter * --name ${GIT} *`, ...rule });

/** production with `gitops.auth` set: the only difference between a private and a public repository. */
function production(auth: 'token' | 'none'): UserDataInput {
  const input = inputFor('production', 'control-plane');
  return { ...input, cluster: { ...input.cluster, gitops: { ...input.cluster.gitops, auth } } };
}

const controlPlane = initialisedControlPlanes();
const secretsOf = (stdin: readonly (string | undefined)[]) => stdin.filter((s): s is string => s !== undefined).map((s) => parse(s) as SecretManifest);

describe('first-boot Flux: the same objects Flux later applies from Git', () => {
  // What Flux applies: the committed, generated clusters/<cluster>/ (a stale synth fails its own test).
  const clustersDir = resolve(__dirname, '../../../clusters');
  type Manifest = { kind: string; metadata: { name: string; namespace?: string }; spec: Record<string, unknown> };
  const manifests = (cluster: string, file: string) => parseAllDocuments(readFileSync(join(clustersDir, cluster, file), 'utf8')).map((d) => d.toJS() as Manifest);
  const gitObject = (cluster: string, file: string, kind: string, name: string) => {
    const found = manifests(cluster, file).find((m) => m.kind === kind && m.metadata.name === name);
    if (!found) throw new Error(`clusters/${cluster}/${file} has no ${kind} ${name}`);
    return found;
  };

  it.each(platform.clusters.map((c) => c.name))('%s: every first-boot file is, whole, the object Flux applies from clusters/', (name) => {
    const n = controlPlane(inputFor(name, 'control-plane'), []);
    const addon = (file: string) => parse(n.file(join(n.etc, 'addons', file)));
    const release = (file: string, releaseName: string) => gitObject(name, file, 'HelmRelease', releaseName).spec;
    expect(addon('cilium-values.yaml')).toEqual(release('infrastructure/controllers/cilium.yaml', CORE_ADDONS.cilium.releaseName).values);
    expect(addon('ccm-values.yaml')).toEqual(release('infrastructure/controllers/aws-cloud-controller-manager.yaml', CORE_ADDONS.awsCloudController.releaseName).values);
    const flux = release('flux-system/flux.yaml', CORE_ADDONS.fluxOperator.releaseName);
    expect(addon('flux-operator-values.yaml')).toEqual(flux.values);
    expect(addon('flux-instance.yaml')).toEqual(gitObject(name, 'flux-system/flux.yaml', 'FluxInstance', FLUX_INSTANCE_NAMES.name));
    // Same release names and namespaces, so Flux upgrades the releases the node installed.
    expect(flux).toMatchObject({ releaseName: CORE_ADDONS.fluxOperator.releaseName });
    const env = n.file(join(n.etc, 'env'));
    expect(env).toContain(`FLUX_NAMESPACE='${FLUX_INSTANCE_NAMES.namespace}'\n`);
    expect(env).toContain(`CILIUM_VERSION='${CORE_ADDONS.cilium.version}'\n`);
    expect(env).toContain(`CCM_VERSION='${CORE_ADDONS.awsCloudController.version}'\n`);
    expect(env).toContain(`FLUX_OPERATOR_VERSION='${CORE_ADDONS.fluxOperator.version}'\n`);
  });

  it('the FluxInstance syncs this cluster with the Git Secret install-addons.sh writes', () => {
    const n = controlPlane(production('token'), []);
    const instance = parse(n.file(join(n.etc, 'addons', 'flux-instance.yaml')));
    const { cluster, settings, names } = n.input;
    expect(instance.spec.sync).toEqual(fluxGitSync(cluster, settings, names));
    expect(instance.spec.sync).toMatchObject({ path: 'clusters/production', pullSecret: FLUX_INSTANCE_NAMES.gitSecret });
    const env = n.file(join(n.etc, 'env'));
    expect(env).toContain(`GIT_SECRET='${FLUX_INSTANCE_NAMES.gitSecret}'\n`);
    expect(env).toContain(`GITOPS_PATH='${names.gitopsPath}'\n`);
  });

  it('private repository: writes the Secret the FluxInstance names, the token on stdin only', () => {
    const n = controlPlane(production('token'), [HELM, gitParameter({ stdout: `${TOKEN}\n` })]);
    const result = n.run('install-addons.sh');
    expect(result.status, result.stderr).toBe(0);
    const flux = join(n.etc, 'addons', 'flux-instance.yaml');
    expect(callsOf(result.calls, 'kubectl').slice(-2)).toEqual(['kubectl apply -f -', `kubectl apply -f ${flux}`]);
    const secret = secretsOf(result.stdin).at(-1) as SecretManifest;
    expect(`${secret.metadata.namespace}/${secret.metadata.name}`).toBe(SECRET_REF);
    expect(Buffer.from(secret.data.password, 'base64').toString('utf8')).toBe(TOKEN);
    expect(result.calls.join('\n')).not.toContain(TOKEN);
    expect(result.stderr).toContain(`Secret ${SECRET_REF} written from ${GIT}`);
  });

  it('private repository without the parameter: warns, and still applies the FluxInstance with its pullSecret (as Git will)', () => {
    const n = controlPlane(production('token'), [HELM, parameterNotFound(GIT)]);
    const result = n.run('install-addons.sh');
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain(`WARNING: no Git credentials at ${GIT}: no Secret ${SECRET_REF}, Flux cannot read ${fluxGitSync(n.input.cluster, n.input.settings, n.input.names).url} until the parameter exists and 'install-addons.sh git-credentials' runs (public repository: gitops.auth none)`);
    expect(secretsOf(result.stdin).map((m) => `${m.metadata.namespace}/${m.metadata.name}`)).not.toContain(SECRET_REF);
    expect(callsOf(result.calls, 'kubectl').at(-1)).toBe(`kubectl apply -f ${join(n.etc, 'addons', 'flux-instance.yaml')}`);
    expect(parse(n.file(join(n.etc, 'addons', 'flux-instance.yaml'))).spec.sync.pullSecret).toBe(FLUX_INSTANCE_NAMES.gitSecret);
  });

  it('public repository (gitops.auth none): never reads the parameter, no Secret, a FluxInstance without pullSecret', () => {
    const n = controlPlane(production('none'), [HELM, gitParameter({ stdout: `${TOKEN}\n` })]);
    expect(n.file(join(n.etc, 'env'))).toContain("GIT_SECRET=''\n");
    expect(parse(n.file(join(n.etc, 'addons', 'flux-instance.yaml'))).spec.sync).not.toHaveProperty('pullSecret');
    const result = n.run('install-addons.sh');
    expect(result.status, result.stderr).toBe(0);
    expect(result.calls.join('\n')).not.toContain(GIT);
    expect(secretsOf(result.stdin).map((m) => `${m.metadata.namespace}/${m.metadata.name}`)).not.toContain(SECRET_REF);
    expect(callsOf(result.calls, 'kubectl').at(-1)).toBe(`kubectl apply -f ${join(n.etc, 'addons', 'flux-instance.yaml')}`);
  });

  it('`install-addons.sh git-credentials` only rewrites the Secret, and refuses for a public repository', () => {
    const n = controlPlane(production('token'), [gitParameter({ stdout: `git:${TOKEN}\n` })]);
    const result = n.run('install-addons.sh', ['git-credentials']);
    expect(result.status, result.stderr).toBe(0);
    expect(callsOf(result.calls, 'kubectl', 'helm')).toEqual(['kubectl apply -f -']);
    expect(secretsOf(result.stdin).map((m) => `${m.metadata.namespace}/${m.metadata.name}`)).toEqual([SECRET_REF]);

    const pub = controlPlane(production('none'), []);
    const refused = pub.run('install-addons.sh', ['git-credentials']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('gitops.auth is none: the repository is public, no Git Secret to write');
    expect(callsOf(refused.calls, 'kubectl', 'aws')).toEqual([]);
  });
});
