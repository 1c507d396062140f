import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { callsOf, initialisedControlPlanes, inputFor, parameterNotFound, platform, type Rule, type SecretManifest } from './harness';

// What the PostgreSQL add-on's s3Credentials reference, from the one source of truth.
const names = platform.namesOf('production').appBackupCredentials;
const KEY_ID = 'AKIAEXAMPLE0APPBACKUP';
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYSECRETKEY';
const GET = `aws ssm get-parameter --region ap-northeast-2 --name ${names.ssmParameter} --with-decryption --query Parameter.Value --output text`;
const parameter = (stdout: string): Rule => ({ cmd: 'aws', args: `ssm get-parameter * --name ${names.ssmParameter} *`, stdout });
const noNamespace: Rule = { cmd: 'kubectl', args: `get namespace ${names.namespace}`, exit: 1 };
const MISSING_WARNING = `node-bootstrap-addons [app-backup-credentials] WARNING: no app backup credentials at ${names.ssmParameter}: no Secret ${names.namespace}/${names.secretName}, PostgreSQL backups will fail (see the CNPG Cluster status) until the parameter exists and 'install-addons.sh backup-credentials' runs`;

const initialised = initialisedControlPlanes();
const controlPlane = (rules: Rule[]) => initialised(inputFor('production', 'control-plane'), rules);
const decoded = (manifest: SecretManifest) => Object.fromEntries(Object.entries(manifest.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));

describe('install-addons.sh: app backup credentials', () => {
  it('writes the parameter and Secret names from platform-config into the control plane env only', () => {
    const n = controlPlane([]);
    const env = n.file(join(n.etc, 'env'));
    expect(env).toContain(`SSM_APP_BACKUP_CREDENTIALS='${names.ssmParameter}'\n`);
    expect(env).toContain(`APP_BACKUP_NAMESPACE='${names.namespace}'\n`);
    expect(env).toContain(`APP_BACKUP_SECRET='${names.secretName}'\n`);
    expect(env).toContain(`APP_BACKUP_KEYS='${names.keys.accessKeyId} ${names.keys.secretAccessKey}'\n`);
    const worker = initialised(inputFor('production', 'worker'), []);
    expect(worker.file(join(worker.etc, 'env'))).not.toContain('APP_BACKUP');
  });

  it('turns the JSON parameter into the Secret, creating the namespace, with the keys on stdin only', () => {
    const n = controlPlane([parameter(`{"accessKeyId": "${KEY_ID}", "secretAccessKey": "${SECRET}"}\n`), noNamespace]);
    const result = n.run('install-addons.sh', ['backup-credentials']);
    expect(result.status, result.stderr).toBe(0);
    expect(callsOf(result.calls, 'aws', 'kubectl', 'helm')).toEqual([GET, `kubectl get namespace ${names.namespace}`, `kubectl create namespace ${names.namespace}`, 'kubectl apply -f -']);
    const manifest = parse(result.stdin[result.calls.indexOf('kubectl apply -f -')] as string) as SecretManifest;
    expect(manifest).toMatchObject({ kind: 'Secret', metadata: { name: names.secretName, namespace: names.namespace }, type: 'Opaque' });
    expect(decoded(manifest)).toEqual({ [names.keys.accessKeyId]: KEY_ID, [names.keys.secretAccessKey]: SECRET });
    expect(result.calls.join('\n')).not.toContain(SECRET);
    expect(result.stderr).not.toContain(SECRET);
    expect(result.stderr).toContain(`Secret ${names.namespace}/${names.secretName} written from ${names.ssmParameter}`);
  });

  it('accepts id:secret and leaves an existing namespace alone', () => {
    const n = controlPlane([parameter(`${KEY_ID}:${SECRET}\n`)]);
    const result = n.run('install-addons.sh', ['backup-credentials']);
    expect(result.status, result.stderr).toBe(0);
    expect(callsOf(result.calls, 'kubectl')).toEqual([`kubectl get namespace ${names.namespace}`, 'kubectl apply -f -']);
    expect(decoded(parse(result.stdin[result.calls.indexOf('kubectl apply -f -')] as string) as SecretManifest)).toEqual({ [names.keys.accessKeyId]: KEY_ID, [names.keys.secretAccessKey]: SECRET });
  });

  it('reads the pretty-printed JSON the runbook\'s create-access-key --query writes', () => {
    const n = controlPlane([parameter(`{\n    "accessKeyId": "${KEY_ID}",\n    "secretAccessKey": "${SECRET}"\n}\n`)]);
    const result = n.run('install-addons.sh', ['backup-credentials']);
    expect(result.status, result.stderr).toBe(0);
    expect(decoded(parse(result.stdin[result.calls.indexOf('kubectl apply -f -')] as string) as SecretManifest)).toEqual({ [names.keys.accessKeyId]: KEY_ID, [names.keys.secretAccessKey]: SECRET });
  });

  it('unescapes a JSON-escaped "/" in the secret key', () => {
    const n = controlPlane([parameter(`{"accessKeyId":"${KEY_ID}","secretAccessKey":"${SECRET.replace('/', '\\/')}"}`)]);
    const result = n.run('install-addons.sh', ['backup-credentials']);
    expect(decoded(parse(result.stdin[result.calls.indexOf('kubectl apply -f -')] as string) as SecretManifest)[names.keys.secretAccessKey]).toBe(SECRET);
  });

  it('warns and continues when the parameter is missing: no namespace, no Secret', () => {
    const n = controlPlane([parameterNotFound(names.ssmParameter)]);
    const result = n.run('install-addons.sh', ['backup-credentials']);
    expect(result.status, result.stderr).toBe(0);
    expect(callsOf(result.calls, 'aws', 'kubectl')).toEqual([GET]);
    expect(result.stderr).toContain(MISSING_WARNING);
  });

  it('warns and writes nothing when the value is neither JSON keys nor id:secret', () => {
    const n = controlPlane([parameter('{"AccessKeyId":"AKIA"}\n')]);
    const result = n.run('install-addons.sh', ['backup-credentials']);
    expect(result.status, result.stderr).toBe(0);
    expect(callsOf(result.calls, 'kubectl')).toEqual([]);
    expect(result.stderr).toContain(`WARNING: ${names.ssmParameter} is neither {"accessKeyId","secretAccessKey"} JSON nor id:secret: no Secret ${names.namespace}/${names.secretName}, PostgreSQL backups will fail`);
  });

  it('runs in the full install before Flux starts, and a missing parameter does not stop Flux', () => {
    const git = platform.namesOf('production').ssm.gitCredentials;
    const base: Rule[] = [{ cmd: 'helm', args: 'version --short', stdout: 'v3.19.0+g1\n' }, { cmd: 'aws', args: `ssm get-parameter * --name ${git} *`, stdout: 'github_pat_TOKEN\n' }];
    const withKeys = controlPlane([...base, parameter(`${KEY_ID}:${SECRET}`)]);
    const present = withKeys.run('install-addons.sh');
    expect(present.status, present.stderr).toBe(0);
    const flux = join(withKeys.etc, 'addons', 'flux-instance.yaml');
    // After the charts, once no FluxInstance exists yet: the Secrets, then the FluxInstance.
    const kubectl = callsOf(present.calls, 'kubectl');
    expect(kubectl.slice(kubectl.indexOf('kubectl wait --for condition=established --timeout=120s crd/fluxinstances.fluxcd.controlplane.io'))).toEqual([
      'kubectl wait --for condition=established --timeout=120s crd/fluxinstances.fluxcd.controlplane.io',
      'kubectl get fluxinstances.fluxcd.controlplane.io -n flux-system --ignore-not-found -o name',
      `kubectl get namespace ${names.namespace}`,
      'kubectl apply -f -',
      'kubectl apply -f -',
      `kubectl apply -f ${flux}`,
    ]);
    const manifests = present.stdin.filter((s): s is string => s !== undefined).map((s) => parse(s) as SecretManifest).filter((m) => m.kind === 'Secret');
    expect(manifests.map((m) => `${m.metadata.namespace}/${m.metadata.name}`)).toEqual([`${names.namespace}/${names.secretName}`, 'flux-system/flux-system']);

    const without = controlPlane([...base, parameterNotFound(names.ssmParameter)]);
    const missing = without.run('install-addons.sh');
    expect(missing.status, missing.stderr).toBe(0);
    expect(missing.stderr).toContain(MISSING_WARNING);
    expect(callsOf(missing.calls, 'kubectl').at(-1)).toBe(`kubectl apply -f ${join(without.etc, 'addons', 'flux-instance.yaml')}`);
    expect(callsOf(missing.calls, 'helm').filter((c) => c.startsWith('helm upgrade --install'))).toHaveLength(3);
  });
});
