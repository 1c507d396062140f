import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FAILOVER_ACCESS, failoverKubeconfigNames } from '@platform/platform-config';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderUserData } from '../src';
import { API, callsOf, initialisedControlPlanes, inputFor, platform, type Rule } from './harness';

const names = platform.namesOf('dr');
const { namespace, tokenSecret } = FAILOVER_ACCESS;
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.failover-token-payload.signature';
const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIC-dr-ca\n-----END CERTIFICATE-----\n').toString('base64');
const GET_TOKEN = `kubectl get secret ${tokenSecret} -n ${namespace} -o jsonpath={.data.token}`;
const GET_CA = `kubectl get secret ${tokenSecret} -n ${namespace} -o jsonpath={.data.ca\\.crt}`;
const PUT = (file: string) => `aws ssm put-parameter --region ap-northeast-1 --name ${names.ssm.ciKubeconfig} --type SecureString --key-id ${names.kmsAlias} --tier Standard --overwrite --value file://${file}`;
// The fake aws keeps what it was given (and the file's mode) where the test can read it.
const capture: Rule = { cmd: 'aws', args: 'ssm put-parameter *', run: 'f=${*: -1}; f=${f#file://}; stat -c %a "$f" >"$FAKE_DIR/mode"; cp "$f" "$FAKE_DIR/published"' };
const TOKEN_ARGS = `get secret ${tokenSecret} -n ${namespace} -o jsonpath={.data.token}`;
const token = (stdout: string): Rule => ({ cmd: 'kubectl', args: TOKEN_ARGS, stdout });
/** Flux has not created the Secret yet (NotFound), then the token controller has not filled it (empty). */
const notYet: Rule[] = [
  { cmd: 'kubectl', args: TOKEN_ARGS, exit: 1, times: 1 },
  { cmd: 'kubectl', args: TOKEN_ARGS, run: 'exit 0', times: 1 },
];
const ca: Rule = { cmd: 'kubectl', args: `get secret ${tokenSecret} -n ${namespace} -o jsonpath={.data.ca*crt}`, stdout: CA };

const initialised = initialisedControlPlanes();
const controlPlane = (rules: Rule[]) => initialised(inputFor('dr', 'control-plane'), rules);

describe('ci-kubeconfig.sh: the region-failover kubeconfig', () => {
  it('waits for the token Flux creates, then puts a kubeconfig with per-cluster names to SSM from a 0600 temp file it removes', () => {
    const n = controlPlane([...notYet, token(Buffer.from(TOKEN).toString('base64')), ca, capture]);
    const tmp = join(n.root, 'tmp');
    mkdirSync(tmp);
    const result = n.run('ci-kubeconfig.sh', [], { TMPDIR: tmp });
    expect(result.status, result.stderr).toBe(0);
    const put = callsOf(result.calls, 'aws')[0]!;
    const file = put.slice(put.indexOf('file://') + 'file://'.length);
    expect(file.startsWith(`${tmp}/`)).toBe(true);
    expect(callsOf(result.calls, 'kubectl', 'aws', 'sleep')).toEqual([GET_TOKEN, 'sleep 10', GET_TOKEN, 'sleep 10', GET_TOKEN, GET_CA, PUT(file)]);
    expect(n.file(join(n.fakeDir, 'mode')).trim()).toBe('600');
    expect(readdirSync(tmp)).toEqual([]);
    expect(existsSync(file)).toBe(false);
    const kubeconfig = parse(n.file(join(n.fakeDir, 'published')));
    const want = failoverKubeconfigNames('dr');
    expect(kubeconfig).toEqual({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: want.cluster, cluster: { server: `https://${API}:6443`, 'certificate-authority-data': CA } }],
      users: [{ name: want.user, user: { token: TOKEN } }],
      contexts: [{ name: want.context, context: { cluster: want.cluster, user: want.user } }],
      'current-context': want.context,
    });
    expect(result.calls.join('\n')).not.toContain(TOKEN);
    expect(result.stderr).not.toContain(TOKEN);
    expect(result.stderr).toContain(`written to ${names.ssm.ciKubeconfig}`);
  });

  it('gives up with a warning and the re-run command when the token never appears, writing nothing', () => {
    const n = controlPlane([{ cmd: 'kubectl', args: TOKEN_ARGS, exit: 1 }, capture]);
    const result = n.run('ci-kubeconfig.sh', [], { CI_TOKEN_WAIT_SECONDS: '30' });
    expect(result.status, result.stderr).toBe(0);
    expect(callsOf(result.calls, 'kubectl', 'aws')).toEqual(Array(4).fill(GET_TOKEN));
    expect(result.stderr).toContain(`WARNING: no token in Secret ${namespace}/${tokenSecret} after 30s`);
    expect(result.stderr).toContain("until 'bash ");
    expect(existsSync(join(n.fakeDir, 'published'))).toBe(false);
  });

  it('fails, naming the parameter, when SSM refuses the write, and still removes the temp file', () => {
    const n = controlPlane([token(Buffer.from(TOKEN).toString('base64')), ca, { cmd: 'aws', args: 'ssm put-parameter *', exit: 254 }]);
    const tmp = join(n.root, 'tmp');
    mkdirSync(tmp);
    const result = n.run('ci-kubeconfig.sh', [], { TMPDIR: tmp });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`[ci-kubeconfig] FAILED: writing ${names.ssm.ciKubeconfig} failed`);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('is started by install-addons.sh after the FluxInstance, in its own unit after the bootstrap, on control-plane nodes only', () => {
    const n = controlPlane([{ cmd: 'helm', args: 'version --short', stdout: 'v3.19.0+g1\n' }]);
    expect(n.exists(join(n.lib, 'ci-kubeconfig.sh'))).toBe(true);
    const env = n.file(join(n.etc, 'env'));
    expect(env).toContain(`CI_KUBECONFIG='${names.ssm.ciKubeconfig}'\n`);
    expect(env).toContain(`CI_KUBECONFIG_NAMES='dr dr-region-failover dr'\n`);
    const worker = initialised(inputFor('dr', 'worker'), []);
    expect(worker.exists(join(worker.lib, 'ci-kubeconfig.sh'))).toBe(false);
    const result = n.run('install-addons.sh', [], {});
    expect(result.status, result.stderr).toBe(0);
    const tail = callsOf(result.calls, 'kubectl', 'systemctl').slice(-2);
    expect(tail).toEqual([`kubectl apply -f ${join(n.etc, 'addons', 'flux-instance.yaml')}`, 'systemctl start --no-block ci-kubeconfig.service']);
    const unit = parse(renderUserData(inputFor('dr', 'control-plane'))).write_files.find((f: { path: string }) => f.path === '/etc/systemd/system/ci-kubeconfig.service').content as string;
    expect(unit).toContain('After=network-online.target node-bootstrap.service');
    expect(unit).toContain('ExecStart=/bin/bash /opt/node-bootstrap/ci-kubeconfig.sh');
    expect(unit).toContain('SyslogIdentifier=ci-kubeconfig');
  });
});
