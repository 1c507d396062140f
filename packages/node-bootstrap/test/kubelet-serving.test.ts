import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderUserData } from '../src';
import { callsOf, inputFor, platform, requireTool, scratch, type Rule } from './harness';

const TAG = platform.namesOf('production').clusterTagKey;
const A = { name: 'ip-10-20-0-10.ap-northeast-2.compute.internal', ip: '10.20.0.10', id: 'i-0a' };
const B = { name: 'ip-10-20-1-11.ap-northeast-2.compute.internal', ip: '10.20.1.11', id: 'i-0b' };

/** A CSR as a kubelet makes it (ECDSA P-256, O=system:nodes, CN=system:node:<name>), made by the real openssl. */
function request(cn: string, sans: string[], org = 'system:nodes'): string {
  const made = spawnSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', '/dev/null', '-subj', `/O=${org}/CN=${cn}`, '-addext', `subjectAltName=${sans.join(',')}`], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(made.stderr);
  return Buffer.from(made.stdout).toString('base64');
}

interface Csr {
  readonly name: string;
  readonly signerName?: string;
  readonly username: string;
  readonly groups?: string[];
  readonly usages?: string[];
  readonly request: string;
  readonly conditions?: string[];
}
interface Instance {
  readonly id: string;
  readonly privateDns: string;
  readonly privateIp: string;
  readonly state?: string;
  readonly tags?: Record<string, string>;
}

/**
 * The API server's answers to the approver's kubectl calls, formatted as kubectl's jsonpath prints
 * them (arrays as JSON, no trailing newline), and EC2's describe-instances evaluating the filters
 * it is given (private-dns-name, instance-state-name, tag:<key>) over the account's instances.
 */
function world(csrs: Csr[], nodes: Record<string, string[][]>, instances: Instance[]): Rule[] {
  const serving = csrs.filter((c) => (c.signerName ?? 'kubernetes.io/kubelet-serving') === 'kubernetes.io/kubelet-serving');
  const listing = serving
    .map((c) => [c.name, c.username, JSON.stringify(c.groups ?? ['system:nodes', 'system:authenticated']), JSON.stringify(c.usages ?? ['digital signature', 'server auth']), c.request, (c.conditions ?? []).join(' ')].join('\t'))
    .join('\n');
  const rules: Rule[] = [{ cmd: 'kubectl', args: 'get csr -o jsonpath=*kubelet-serving*', stdout: `${listing}\n` }];
  for (const [name, addresses] of Object.entries(nodes)) rules.push({ cmd: 'kubectl', args: `get node ${name} -o jsonpath=*`, stdout: addresses.map(([t, a]) => `${t} ${a}\n`).join('') });
  rules.push({ cmd: 'kubectl', args: 'get node *', exit: 1, run: 'echo "Error from server (NotFound): nodes \\"$3\\" not found" >&2' });
  const table = instances.map((i) => [i.id, i.privateDns, i.privateIp, i.state ?? 'running', Object.entries(i.tags ?? { [TAG]: 'owned' }).map(([k, v]) => `${k}=${v}`).join(';')].join('|')).join('\n');
  rules.push({
    cmd: 'aws',
    args: 'ec2 describe-instances *',
    run: [
      `dns=; state=; tag=; for a in "$@"; do case $a in Name=private-dns-name,Values=*) dns=\${a#*Values=} ;; Name=instance-state-name,Values=*) state=\${a#*Values=} ;; Name=tag:*) tag=\${a#Name=tag:}; tag=\${tag/,Values=/=} ;; esac; done`,
      `while IFS='|' read -r id pdns pip st tags; do [[ -n $id && $pdns == "$dns" && $st == "$state" && ";$tags;" == *";$tag;"* ]] && printf '%s\\t%s\\t%s\\t\\tNone\\n' "$id" "$pdns" "$pip"; done <<'TABLE'`,
      table,
      'TABLE',
      'exit 0',
    ].join('\n'),
  });
  return rules;
}

const addresses = (n: typeof A) => [['InternalIP', n.ip], ['InternalDNS', n.name], ['Hostname', n.name]];
const sansOf = (n: typeof A) => [`DNS:${n.name}`, `IP:${n.ip}`];
const instanceOf = (n: typeof A, extra: Partial<Instance> = {}): Instance => ({ id: n.id, privateDns: n.name, privateIp: n.ip, ...extra });

const temporary = scratch();
function approve(rules: Rule[]) {
  const node = temporary.node(inputFor('production', 'control-plane'), rules);
  writeFileSync(join(node.kube, 'admin.conf'), '');
  const result = node.run('kubelet-serving-approver.sh');
  const approved = callsOf(result.calls, 'kubectl').filter((c) => c.startsWith('kubectl certificate approve')).map((c) => c.split(' ').at(-1));
  return { result, approved };
}

describe.runIf(requireTool('openssl'))('kubelet-serving-approver.sh', () => {
  it('approves a node\'s serving CSR whose names are its Node addresses and its running, owned instance\'s', () => {
    const { result, approved } = approve(world([{ name: 'csr-a', username: `system:node:${A.name}`, request: request(`system:node:${A.name}`, sansOf(A)) }], { [A.name]: addresses(A) }, [instanceOf(A)]));
    expect(result.status, result.stderr).toBe(0);
    expect(approved).toEqual(['csr-a']);
    expect(result.stderr).toContain(`approved csr-a: serving certificate of ${A.name}`);
    expect(result.calls).toContain(
      `aws ec2 describe-instances --region ap-northeast-2 --filters Name=private-dns-name,Values=${A.name} Name=instance-state-name,Values=running Name=tag:${TAG},Values=owned --query Reservations[].Instances[].[InstanceId,PrivateDnsName,PrivateIpAddress,PublicDnsName,PublicIpAddress] --output text`,
    );
  });

  it('leaves pending, with the reason, every CSR that is not exactly a node\'s own serving certificate', () => {
    const own = (n: typeof A) => `system:node:${n.name}`;
    const csrs: Csr[] = [
      // B set another node's address in its own Node status and asks for it: EC2 says no.
      { name: 'csr-steal-ip', username: own(B), request: request(own(B), [...sansOf(B), `IP:${A.ip}`]) },
      // Names the Node does not have.
      { name: 'csr-extra-dns', username: own(A), request: request(own(A), [...sansOf(A), 'DNS:api.example.com']) },
      // B asks for a certificate in A's name.
      { name: 'csr-other-cn', username: own(B), request: request(own(A), sansOf(A)) },
      { name: 'csr-not-node', username: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:authenticated'], request: request(own(A), sansOf(A)) },
      { name: 'csr-client', username: own(A), usages: ['digital signature', 'client auth'], request: request(own(A), sansOf(A)) },
      { name: 'csr-org', username: own(A), request: request(own(A), sansOf(A), 'system:masters') },
      { name: 'csr-ghost', username: 'system:node:ip-10-20-2-99.ap-northeast-2.compute.internal', request: request('system:node:ip-10-20-2-99.ap-northeast-2.compute.internal', ['IP:10.20.2.99']) },
    ];
    const { result, approved } = approve(world(csrs, { [A.name]: addresses(A), [B.name]: [...addresses(B), ['InternalIP', A.ip]] }, [instanceOf(A), instanceOf(B)]));
    expect(result.status, result.stderr).toBe(0);
    expect(approved).toEqual([]);
    for (const line of [
      `left csr-steal-ip pending: IP:${A.ip} is not an address of ${B.id}`,
      `left csr-extra-dns pending: names DNS:api.example.com DNS:${A.name} IP:${A.ip} are not the addresses of Node ${A.name} (DNS:${A.name} IP:${A.ip})`,
      `left csr-other-cn pending: subject O = system:nodes, CN = system:node:${A.name}`,
      'left csr-not-node pending: system:bootstrap:abcdef ["system:bootstrappers","system:authenticated"] is not a node',
      'left csr-client pending: usage client auth is not for serving',
      `left csr-org pending: subject O = system:masters, CN = system:node:${A.name}`,
      'left csr-ghost pending: no Node ip-10-20-2-99.ap-northeast-2.compute.internal',
    ]) expect(result.stderr).toContain(line);
  });

  it('approves only for a running instance of this cluster', () => {
    const csr = (name: string): Csr => ({ name, username: `system:node:${A.name}`, request: request(`system:node:${A.name}`, sansOf(A)) });
    const other = approve(world([csr('csr-other-cluster')], { [A.name]: addresses(A) }, [instanceOf(A, { tags: { 'kubernetes.io/cluster/staging': 'owned' } })]));
    expect(other.approved).toEqual([]);
    expect(other.result.stderr).toContain(`left csr-other-cluster pending: not one running ${TAG} instance ${A.name}: none`);
    const stopped = approve(world([csr('csr-stopped')], { [A.name]: addresses(A) }, [instanceOf(A, { state: 'stopped' })]));
    expect(stopped.approved).toEqual([]);
  });

  it('skips CSRs already decided and those of other signers', () => {
    const req = request(`system:node:${A.name}`, sansOf(A));
    const { result, approved } = approve(world([
      { name: 'csr-done', username: `system:node:${A.name}`, request: req, conditions: ['Approved'] },
      { name: 'csr-denied', username: `system:node:${A.name}`, request: req, conditions: ['Denied'] },
      { name: 'csr-client-kubelet', signerName: 'kubernetes.io/kube-apiserver-client-kubelet', username: `system:node:${A.name}`, request: req },
    ], { [A.name]: addresses(A) }, [instanceOf(A)]));
    expect(result.status, result.stderr).toBe(0);
    expect(approved).toEqual([]);
    expect(callsOf(result.calls, 'aws')).toEqual([]);
  });

  it('runs every 30 s on control-plane nodes, enabled with the other timers; kubelets ask for serving certificates', () => {
    const files = parse(renderUserData(inputFor('production', 'control-plane'))).write_files as { path: string; content: string }[];
    const file = (path: string) => files.find((f) => f.path === path)?.content ?? '';
    expect(file('/etc/systemd/system/kubelet-serving-approver.timer')).toContain('OnUnitActiveSec=30s');
    expect(file('/etc/systemd/system/kubelet-serving-approver.service')).toContain('ExecStart=/bin/bash /opt/node-bootstrap/kubelet-serving-approver.sh');
    expect(file('/etc/node-bootstrap/env')).toContain(`CLUSTER_TAG='${TAG}'\n`);
    // kubeadm stores the KubeletConfiguration in the kubelet-config ConfigMap: every joining node, workers too, uses it.
    expect(file('/etc/node-bootstrap/kubeadm-init.yaml.tmpl')).toMatch(/kind: KubeletConfiguration\n(.+\n)*serverTLSBootstrap: true\n/);
    const worker = parse(renderUserData(inputFor('production', 'worker'))).write_files as { path: string }[];
    expect(worker.map((f) => f.path)).not.toContain('/etc/systemd/system/kubelet-serving-approver.timer');
  });
});
