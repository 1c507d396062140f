import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { bootstrapBundle, renderUserData, type UserDataInput } from '../src';
import { ROLE_SCRIPTS, SCRIPTS_DIR, stripComments } from '../src/private/script-bundle';
import { API, BUNDLE_VERSION, inputFor, platform, requireTool, unitStartCommands, unpackUserData } from './harness';
import { DOWNLOAD_PINS_FILE, downloadPinsFile } from '../src/download-lock';

/**
 * EC2 limits user data to 16 KB "in raw form, before it is base64-encoded" (EC2 User Guide,
 * instance user data): here the gzip bytes, i.e. the base64 text decoded.
 */
const EC2_USER_DATA_LIMIT = 16384;
/** Room kept free since the scripts moved to S3 (control plane ≈ 4.5 KB of gzip, was 16.3 KB): the stub, env and templates may grow, the scripts no longer count. */
const HEADROOM = 8192;
const rawBytes = (base64: string) => Buffer.from(base64, 'base64').length;
const variants = platform.clusters.flatMap((cluster) => [
  { label: `${cluster.name} control-plane`, input: inputFor(cluster.name, 'control-plane') },
  ...cluster.workerPools.map((pool) => ({ label: `${cluster.name} worker ${pool.name}`, input: inputFor(cluster.name, 'worker', pool.name) })),
]);

describe('rendered user-data', () => {
  const work = mkdtempSync(join(tmpdir(), 'user-data-'));

  it.each(variants)('$label passes cloud-init schema', ({ input }) => {
    if (!requireTool('cloud-init')) return;
    const file = join(work, `${input.cluster.name}-${input.role}-${input.pool?.name ?? 'cp'}.yaml`);
    writeFileSync(file, renderUserData(input));
    const result = spawnSync('cloud-init', ['schema', '--config-file', file], { encoding: 'utf8' });
    expect(`${result.stdout}${result.stderr}`).toContain('Valid cloud-config');
    expect(result.status).toBe(0);
  });

  it.each(variants)('$label keeps 8 KB of the EC2 16 KB free after base64gzip (gzip bytes)', ({ input }) => {
    // Terraform's base64gzip of the text with the endpoint resolved to a long real NLB name.
    const resolved = renderUserData(input).split(API).join('production-api-0123456789abcdef.elb.ap-northeast-2.amazonaws.com');
    const encoded = gzipSync(resolved, { level: 6 }).toString('base64');
    expect(rawBytes(encoded)).toBeLessThanOrEqual(EC2_USER_DATA_LIMIT - HEADROOM);
    console.log(`user-data ${input.cluster.name} ${input.role} ${input.pool?.name ?? ''}: ${resolved.length} B text, ${rawBytes(encoded)} B gzip (the limited size), ${encoded.length} B base64`);
  });

  it.each(variants)('$label is a safe Terraform string literal around the endpoint token', ({ input }) => {
    const text = renderUserData(input);
    expect(text).toContain(API);
    const rest = text.split(API).join('');
    expect(rest).not.toMatch(/["\\]|\$\{|%\{/);
  });

  it.each(['control-plane', 'worker'] as const)('%s bundle object unpacks with python3 and bash exactly as node-bootstrap.service starts them, into the repository scripts', (role) => {
    const dir = mkdtempSync(join(tmpdir(), 'bundle-'));
    try {
      const config = unpackUserData(renderUserData(inputFor('production', role)), { '/opt/node-bootstrap/': `${dir}/` });
      // The stub fetches exactly the pinned object version of its role and checks the hash Terraform uploads.
      const unit = config.write_files.find((f) => f.path === '/etc/systemd/system/node-bootstrap.service')?.content ?? '';
      expect(unitStartCommands(unit)).toEqual([
        { key: 'ExecStartPre', argv: ['/usr/bin/python3', '/opt/node-bootstrap/fetch-bundle.py', 'ap-northeast-2', 'hakube-production-bootstrap-ap-northeast-2', `bootstrap/${role}.lzma`, BUNDLE_VERSION, bootstrapBundle(role).sha256, '/opt/node-bootstrap/bundle.sh'] },
        { key: 'ExecStartPre', argv: ['/bin/bash', '/opt/node-bootstrap/bundle.sh'] },
        { key: 'ExecStart', argv: ['/bin/bash', '/opt/node-bootstrap/bootstrap.sh'] },
      ]);
      // cloud-init only starts the units: a fetch that fails inside runcmd would be retried by nothing.
      // The fence's re-arm timer too (stage complete on; it runs node-prep.sh imds-fence once the bundle is there).
      expect(config.runcmd).toEqual([
        ['systemctl', 'daemon-reload'],
        ['systemctl', 'enable', 'node-bootstrap.service'],
        ['systemctl', 'start', '--no-block', 'node-bootstrap.service'],
        ['systemctl', 'enable', '--now', 'imds-fence.timer'],
      ]);
      expect(readdirSync(dir).sort()).toEqual([...ROLE_SCRIPTS[role], DOWNLOAD_PINS_FILE, 'bundle.sh', 'bundle.sh.lzma', 'fetch-bundle.py'].sort());
      // The download pins travel inside the hashed bundle, exactly as download-lock.json says.
      expect(readFileSync(join(dir, DOWNLOAD_PINS_FILE), 'utf8')).toBe(downloadPinsFile());
      for (const script of ROLE_SCRIPTS[role]) {
        expect(readFileSync(join(dir, script), 'utf8'), script).toBe(`${stripComments(readFileSync(join(SCRIPTS_DIR, script), 'utf8')).replace(/\n+$/, '')}\n`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('changes the user data (so the launch template rolls) when a script changes, and only the pinned hash carries it', () => {
    const before = renderUserData(inputFor('production', 'control-plane'));
    const sha = bootstrapBundle('control-plane').sha256;
    expect(before).toContain(sha);
    expect(before).not.toContain(bootstrapBundle('control-plane').contentBase64.slice(0, 200));
  });

  it('is byte-identical across renders', () => {
    expect(renderUserData(inputFor('production', 'control-plane'))).toBe(renderUserData(inputFor('production', 'control-plane')));
  });

  it('survives the Terraform path: base64gzip in cdktf, the token resolved by terraform', () => {
    if (!requireTool('terraform')) return;
    const dir = mkdtempSync(join(tmpdir(), 'tf-user-data-'));
    try {
      const text = renderUserData({ ...inputFor('production', 'control-plane'), apiEndpoint: '${var.api}' });
      const literal = text.replace(/\$\{var\.api\}/g, '@@TOKEN@@');
      // The same escaping cdktf applies (newlines, ${); a plain string literal with the token spliced in.
      const escaped = literal.replace(/\n/g, '\\n').split('@@TOKEN@@').join('${var.api}');
      writeFileSync(join(dir, 'main.tf.json'), JSON.stringify({
        variable: { api: { type: 'string' } },
        output: { user_data: { value: `\${base64gzip("${escaped}")}` } },
      }));
      const run = (args: string[]) => spawnSync('terraform', args, { cwd: dir, encoding: 'utf8', env: { ...process.env, TF_IN_AUTOMATION: '1' } });
      expect(run(['init', '-backend=false', '-input=false']).status).toBe(0);
      const plan = run(['plan', '-input=false', '-var', 'api=api.example.com', '-out', 'plan.bin']);
      expect(plan.status, plan.stderr).toBe(0);
      const shown = JSON.parse(run(['show', '-json', 'plan.bin']).stdout) as { planned_values: { outputs: { user_data: { value: string } } } };
      const encoded = shown.planned_values.outputs.user_data.value;
      // What EC2 receives, compressed by Terraform itself rather than by Node's zlib.
      expect(rawBytes(encoded)).toBeLessThanOrEqual(EC2_USER_DATA_LIMIT);
      console.log(`user-data production control-plane through terraform base64gzip: ${rawBytes(encoded)} B gzip, ${encoded.length} B base64`);
      const decoded = gunzipSync(Buffer.from(encoded, 'base64')).toString();
      expect(decoded).toBe(text.split('${var.api}').join('api.example.com'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the endpoint and every alternate name in the API server certificate', () => {
    const clusterConfiguration = (input: UserDataInput) => {
      const config = parse(renderUserData(input)) as { write_files: { path: string; content: string }[] };
      const init = config.write_files.find((f) => f.path === '/etc/node-bootstrap/kubeadm-init.yaml.tmpl');
      return parseAllDocuments(init?.content ?? '').map((d) => d.toJSON()).find((d) => d.kind === 'ClusterConfiguration');
    };
    expect(clusterConfiguration(inputFor('production', 'control-plane'))).toMatchObject({ controlPlaneEndpoint: `${API}:6443`, apiServer: { certSANs: [API] } });
    // Behind a Route 53 alias: the record is the endpoint, the NLB's own name stays valid for clients.
    const record = '${aws_route53_record.api.fqdn}';
    const aliased = clusterConfiguration({ ...inputFor('production', 'control-plane'), apiEndpoint: record, apiAlternateNames: [API] });
    expect(aliased).toMatchObject({ controlPlaneEndpoint: `${record}:6443`, apiServer: { certSANs: [record, API] } });
    expect(clusterConfiguration({ ...inputFor('production', 'control-plane'), apiAlternateNames: [API] }).apiServer.certSANs).toEqual([API]);
  });

  it('verifies service-account tokens with the key bundle the boot assembles (the node\'s patch appends it to kubeadm\'s sa.pub; never the ConfigMap)', () => {
    const config = parse(renderUserData(inputFor('production', 'control-plane'))) as { write_files: { path: string; content: string }[] };
    const init = config.write_files.find((f) => f.path === '/etc/node-bootstrap/kubeadm-init.yaml.tmpl');
    const cc = parseAllDocuments(init?.content ?? '').map((d) => d.toJSON()).find((d) => d.kind === 'ClusterConfiguration');
    const extra = cc.apiServer.extraArgs as { name: string; value: string }[];
    expect(extra.filter((a) => a.name.startsWith('service-account'))).toEqual([]);
    const patch = parse(config.write_files.find((f) => f.path === '/etc/node-bootstrap/kubeadm-patches/kube-apiserver+json.yaml')?.content ?? '[]') as { op: string; path: string; value: string }[];
    expect(patch.filter((o) => o.value.startsWith('--service-account-key-file='))).toEqual([{ op: 'add', path: '/spec/containers/0/command/-', value: '--service-account-key-file=/etc/kubernetes/pki/sa-bundle.pub' }]);
    // service-account-issuer.sh key-set writes $KUBE_DIR/$SA_KEY_BUNDLE: the same file.
    const env = config.write_files.find((f) => f.path === '/etc/node-bootstrap/env')?.content ?? '';
    expect(env).toContain(`SA_KEY_BUNDLE='pki/sa-bundle.pub'\n`);
    expect(cc.controllerManager.extraArgs.map((a: { name: string }) => a.name)).not.toContain('service-account-private-key-file');
  });

  it('gives the nodes the private name and the CI kubeconfig the public one (CI runs outside the VPC)', () => {
    const env = (input: UserDataInput) => {
      const config = parse(renderUserData(input)) as { write_files: { path: string; content: string }[] };
      return config.write_files.find((f) => f.path === '/etc/node-bootstrap/env')?.content ?? '';
    };
    const internal = 'api.production.hakube.internal';
    const external = 'api.production.hakube.example.com';
    const text = env({ ...inputFor('production', 'control-plane'), apiEndpoint: internal, apiExternalEndpoint: external });
    expect(text).toContain(`API_ENDPOINT='${internal}'`);
    expect(text).toContain(`CI_KUBECONFIG_SERVER='https://${external}:6443'`);
    // An internal-only cluster has one name: CI reaches it from inside (VPN, peering).
    expect(env({ ...inputFor('production', 'control-plane'), apiEndpoint: internal })).toContain(`CI_KUBECONFIG_SERVER='https://${internal}:6443'`);
  });

  it('names what is wrong with the input', () => {
    const worker = inputFor('production', 'worker');
    expect(() => renderUserData({ ...worker, pool: undefined })).toThrow('renderUserData: pool is required for role worker (cluster production)');
    expect(() => renderUserData({ ...inputFor('production', 'control-plane'), pool: worker.pool })).toThrow(
      'renderUserData: pool general given for role control-plane; expected none (cluster production)',
    );
    expect(() => renderUserData({ ...worker, pool: { ...worker.pool!, name: 'gpu' } })).toThrow(
      'renderUserData: pool gpu is not a worker pool of cluster production; expected one of general, burst',
    );
    expect(() => renderUserData({ ...worker, bundleVersionId: 'a b' })).toThrow(
      'renderUserData: bundleVersionId "a b" is not usable; expected an S3 version id or a Terraform token string without spaces or quotes',
    );
    expect(() => renderUserData({ ...worker, apiEndpoint: 'a "b"' })).toThrow('renderUserData: apiEndpoint "a \\"b\\"" is not usable');
    expect(() => renderUserData({ ...worker, apiExternalEndpoint: "it's" })).toThrow(
      'renderUserData: apiExternalEndpoint "it\'s" is not usable; expected a DNS name or a Terraform token string without spaces or quotes',
    );
    expect(() => renderUserData({ ...worker, apiAlternateNames: ['api.example.com', 'a b'] })).toThrow(
      'renderUserData: apiAlternateNames[1] "a b" is not usable; expected a DNS name or a Terraform token string without spaces or quotes',
    );
  });
});

describe('scripts', () => {
  const scripts = readdirSync(SCRIPTS_DIR).filter((f) => f.endsWith('.sh'));

  it('are all shipped to some role', () => {
    expect(scripts.sort()).toEqual(
      ['bootstrap.sh', 'ci-kubeconfig.sh', 'control-plane.sh', 'etcd-restore.sh', 'etcd-slot.sh', 'etcd-snapshot.sh', 'install-addons.sh', 'join-material.sh', 'kubelet-serving-approver.sh', 'lib.sh', 'node-prep.sh', 'service-account-issuer.sh', 'service-account-key-rotation.sh', 'worker.sh'],
    );
  });

  // The fakes that model apt and the API server run as bash too.
  it.each(readdirSync(join(__dirname, 'fakes')))('test model fakes/%s passes shellcheck', (model) => {
    if (!requireTool('shellcheck')) return;
    const result = spawnSync('shellcheck', ['--severity=style', join(__dirname, 'fakes', model)], { encoding: 'utf8' });
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  it.each(scripts)('%s passes shellcheck and uses strict mode', (script) => {
    const text = readFileSync(join(SCRIPTS_DIR, script), 'utf8');
    expect(text).toContain('set -euo pipefail');
    if (!requireTool('shellcheck')) return;
    const result = spawnSync('shellcheck', ['-x', '-P', 'SCRIPTDIR', '--severity=style', join(SCRIPTS_DIR, script)], { encoding: 'utf8' });
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });
});
