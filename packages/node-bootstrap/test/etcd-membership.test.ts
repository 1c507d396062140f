import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { renderUserData } from '../src';
import { awsError, callsOf, inputFor, scratch, type CloudConfig, type FakeNode, type Rule } from './harness';

/*
 * etcd membership while control-plane instances come and go, against models of the account's
 * instances (fakes/asg.sh: EC2 and Auto Scaling views of them) and of one etcd cluster
 * (fakes/etcd.sh: membership with etcd's strict reconfiguration checks). The node under test
 * is i-new, 10.20.1.20 (harness identity).
 */

const ASG_MODEL = join(__dirname, 'fakes', 'asg.sh');
const ETCD_MODEL = join(__dirname, 'fakes', 'etcd.sh');
const SLOTS_MODEL = join(__dirname, 'fakes', 'ec2-slots.sh');
const LOCK = '/hakube/production/kubeadm/init-lock';
const input = inputFor('production', 'control-plane');
const temporary = scratch();

interface Instance {
  readonly ip: string;
  readonly ec2: 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';
  readonly asg: string;
  /** DescribeAutoScalingInstances' LifecycleState. */
  readonly lifecycle: string;
}
interface Member {
  readonly id: string;
  readonly name: string;
  readonly ip: string;
  /** The etcd process runs (a rebooting or dead node's does not). */
  readonly running: boolean;
  readonly started?: boolean;
}

const A: Instance = { ip: '10.20.0.10', ec2: 'running', asg: 'production-control-plane-a', lifecycle: 'InService' };
const C: Instance = { ip: '10.20.2.30', ec2: 'running', asg: 'production-control-plane-c', lifecycle: 'InService' };
const OLD_B: Instance = { ip: '10.20.1.11', ec2: 'running', asg: 'production-control-plane-b', lifecycle: 'Terminating:Wait' };
const NEW_B: Instance = { ip: '10.20.1.20', ec2: 'running', asg: 'production-control-plane-b', lifecycle: 'Pending:Wait' };
const member = (id: string, ip: string, running = true): Member => ({ id, name: `ip-${ip.replace(/\./g, '-')}`, ip, running });

/** One account and one etcd cluster; `node()` is i-new with the models as its aws, etcdctl and kubeadm join. */
function world(instances: Record<string, Instance>, members: readonly Member[]) {
  const awsState = temporary.dir('asg-');
  const etcdState = temporary.dir('etcd-');
  mkdirSync(join(awsState, 'instances'));
  mkdirSync(join(etcdState, 'members'));
  for (const [id, i] of Object.entries(instances)) writeFileSync(join(awsState, 'instances', id), `${i.ip} ${i.ec2} ${i.asg} ${i.lifecycle}\n`);
  for (const m of members) writeFileSync(join(etcdState, 'members', m.id), `${m.name} ${m.ip} ${m.started === false ? 0 : 1} ${m.running ? 1 : 0}\n`);
  // No etcd slots (volumes, member addresses) in this account: members at the nodes' own addresses,
  // as before slots existed and after a fallback (etcd-slot.test.ts has the slots).
  const names = input.names.etcdSlot;
  const env = { AWS_STATE: awsState, ETCD_STATE: etcdState, ETCD_LOCAL_IP: NEW_B.ip, FAKE_INSTANCE: 'i-new', DISK_BY_ID: join(awsState, 'by-id'), SYS_NET: join(awsState, 'net'), SLOT_TAG: names.slotTagKey, CLUSTER_SLOT_TAG: names.clusterTagKey };
  return {
    env,
    node(extra: readonly Rule[] = []): FakeNode {
      const n = temporary.node(input);
      n.setRules([
        ...extra,
        { cmd: 'aws', args: `ssm put-parameter * --name ${LOCK} *`, exit: 254, run: 'echo "An error occurred (ParameterAlreadyExists) when calling the PutParameter operation" >&2' },
        { cmd: 'aws', args: `ssm get-parameter * --name ${LOCK} *`, stdout: 'i-first\n' },
        { cmd: 'aws', args: 'ssm get-parameter * --name /hakube/production/kubeadm/join-token *', stdout: 'abcdef.0123456789abcdef\n' },
        { cmd: 'aws', args: 'ssm get-parameter * --name /hakube/production/kubeadm/ca-cert-hash *', stdout: 'sha256:feed\n' },
        { cmd: 'aws', args: 'ssm get-parameter * --name /hakube/production/kubeadm/certificate-key *', stdout: `${'a'.repeat(64)}\n` },
        // No restore requested: SSM answers ParameterNotFound for a name never written.
        { cmd: 'aws', args: 'ssm get-parameter * --name /hakube/production/kubeadm/restore-from *', exit: 254, run: 'echo "An error occurred (ParameterNotFound) when calling the GetParameter operation: " >&2' },
        { cmd: 'aws', args: 'ec2 *-volume*', run: `. '${SLOTS_MODEL}' "$@"` },
        { cmd: 'aws', args: 'ec2 *-network-interface*', run: `. '${SLOTS_MODEL}' "$@"` },
        { cmd: 'aws', args: 'ec2 *', run: `. '${ASG_MODEL}' "$@"` },
        { cmd: 'aws', args: 'autoscaling *', run: `. '${ASG_MODEL}' "$@"` },
        { cmd: 'etcdctl', args: '*', run: `. '${ETCD_MODEL}' etcdctl "$@"` },
        { cmd: 'kubeadm', args: 'join --config *', run: `. '${ETCD_MODEL}' kubeadm-join "$3"` },
        // kubeadm's certs phase makes the etcd client certificate etcdctl needs.
        { cmd: 'kubeadm', args: 'join phase control-plane-prepare certs *', run: 'echo client >"$KUBE_DIR/pki/etcd/healthcheck-client.crt"' },
      ]);
      // The core add-ons are another test's subject (core-addons.test.ts).
      writeFileSync(join(n.state, 'core-addons.done'), '');
      return n;
    },
    /** The members etcd holds now: peer IP and whether the process runs. */
    members(): string[] {
      const dir = join(etcdState, 'members');
      return readdirSync(dir)
        .map((id) => readFileSync(join(dir, id), 'utf8').trim().split(' '))
        .map(([, ip, , running]) => `${ip}${running === '1' ? '' : ' (down)'}`)
        .sort();
    },
    removed(): string[] {
      const log = join(etcdState, 'removed.log');
      return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
    },
  };
}

describe('a replacement joining while its predecessor is still leaving', () => {
  it.each(['Terminating', 'Terminating:Wait', 'Terminating:Proceed'])('removes the member of a %s instance (EC2 still running) before the join: 3 members, not 4', (lifecycle) => {
    const w = world({ 'i-a': A, 'i-c': C, 'i-old': { ...OLD_B, lifecycle }, 'i-new': NEW_B }, [member('aa01', A.ip), member('bb01', OLD_B.ip), member('cc01', C.ip)]);
    const result = w.node().run('control-plane.sh', [], w.env);
    expect(result.status, result.stderr).toBe(0);
    const etcd = callsOf(result.calls, 'etcdctl', 'kubeadm').filter((c) => !c.startsWith('kubeadm join phase'));
    expect(etcd).toEqual(['etcdctl --endpoints=https://10.20.0.10:2379,https://10.20.2.30:2379 member list -w simple', 'etcdctl --endpoints=https://10.20.0.10:2379,https://10.20.2.30:2379 member remove bb01', expect.stringMatching(/^kubeadm join --config /)]);
    expect(w.removed()).toEqual(['bb01']);
    expect(w.members()).toEqual([A.ip, NEW_B.ip, C.ip].sort());
    // The ASG's view comes from the instances EC2 lists, by id.
    expect(callsOf(result.calls, 'aws').filter((c) => c.startsWith('aws autoscaling'))).toEqual([
      // Its own ASG first: the etcd slot it looks for (none here).
      'aws autoscaling describe-auto-scaling-instances --region ap-northeast-2 --instance-ids i-new --query AutoScalingInstances[0].AutoScalingGroupName --output text',
      `aws autoscaling describe-auto-scaling-instances --region ap-northeast-2 --instance-ids ${['i-a', 'i-c', 'i-new', 'i-old'].join(' ')} --query AutoScalingInstances[?starts_with(LifecycleState,'Terminating')].InstanceId --output text`,
    ]);
    expect(result.stderr).toContain('removing etcd member bb01 (ip-10-20-1-11, 10.20.1.11, started)');
  });

  it('keeps the members of InService peers (and of a Standby or still-launching one): only the leaving one goes', () => {
    const w = world(
      { 'i-a': A, 'i-c': { ...C, lifecycle: 'Standby' }, 'i-d': { ip: '10.20.0.40', ec2: 'running', asg: 'production-control-plane-a', lifecycle: 'Pending:Wait' }, 'i-old': OLD_B, 'i-new': NEW_B },
      [member('aa01', A.ip), member('bb01', OLD_B.ip), member('cc01', C.ip), member('dd01', '10.20.0.40')],
    );
    const result = w.node().run('control-plane.sh', [], w.env);
    expect(result.status, result.stderr).toBe(0);
    expect(w.removed()).toEqual(['bb01']);
    expect(w.members()).toEqual(['10.20.0.10', '10.20.0.40', '10.20.1.20', '10.20.2.30']);
  });

  it('with a peer rebooting (InService, etcd down) etcd refuses to remove the leaving member: the rebooting member is kept, no join, the unit retries', () => {
    const w = world({ 'i-a': A, 'i-c': C, 'i-old': OLD_B, 'i-new': NEW_B }, [member('aa01', A.ip), member('bb01', OLD_B.ip), member('cc01', C.ip, false)]);
    const result = w.node().run('control-plane.sh', [], w.env);
    // Removing the leaving member would leave A alone running of {A, C}: etcd refuses (ErrUnhealthy).
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('[remove-stale-etcd-members] FAILED: etcdctl member remove bb01 failed');
    expect(result.stderr).toContain('etcdserver: unhealthy cluster');
    expect(callsOf(result.calls, 'kubeadm').some((c) => c.startsWith('kubeadm join --config'))).toBe(false);
    expect(w.removed()).toEqual([]);
    expect(w.members()).toEqual(['10.20.0.10', '10.20.1.11', '10.20.2.30 (down)']);
  });

  it.each(['Throttling', 'AccessDenied'])('fails without removing or joining when Auto Scaling answers %s (unknown is not "leaving")', (code) => {
    const w = world({ 'i-a': A, 'i-c': C, 'i-old': OLD_B, 'i-new': NEW_B }, [member('aa01', A.ip), member('bb01', OLD_B.ip), member('cc01', C.ip)]);
    const result = w.node([awsError('autoscaling describe-auto-scaling-instances *starts_with*', code)]).run('control-plane.sh', [], w.env);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('[remove-stale-etcd-members] FAILED: listing control-plane instances failed');
    expect(callsOf(result.calls, 'etcdctl', 'kubeadm').filter((c) => !c.startsWith('kubeadm join phase'))).toEqual([]);
    expect(w.members()).toEqual([A.ip, OLD_B.ip, C.ip].sort());
  });

  it('still removes the member of an instance that is gone (terminated), as before', () => {
    const w = world({ 'i-a': A, 'i-c': C, 'i-old': { ...OLD_B, ec2: 'terminated', lifecycle: 'Terminated' }, 'i-new': NEW_B }, [member('aa01', A.ip), member('bb01', OLD_B.ip, false), member('cc01', C.ip)]);
    const result = w.node().run('control-plane.sh', [], w.env);
    expect(result.status, result.stderr).toBe(0);
    expect(w.removed()).toEqual(['bb01']);
    expect(w.members()).toEqual([A.ip, NEW_B.ip, C.ip].sort());
  });
});

describe('node-bootstrap.service ExecStop: the leaving node removes its own member at shutdown', () => {
  const unitOf = (i: typeof input) => (parse(renderUserData(i)) as CloudConfig).write_files.find((f) => f.path === '/etc/systemd/system/node-bootstrap.service')?.content ?? '';
  const unit = unitOf(input);
  /** What systemd runs at shutdown (ExecStop), on the fake node. */
  const shutdown = (w: ReturnType<typeof world>, targetLifecycleState: Rule) => {
    const stop = /^ExecStop=\/bin\/bash \/opt\/node-bootstrap\/(\S+) (.*)$/m.exec(unit);
    expect(stop, unit).not.toBeNull();
    const [, script, args] = stop as RegExpExecArray;
    const n = w.node([targetLifecycleState]);
    // A node that ran has its etcd client certificate (kubeadm's certs phase made it).
    writeFileSync(join(n.kube, 'pki', 'etcd', 'healthcheck-client.crt'), 'client\n');
    return n.run(script, args.split(' '), w.env);
  };
  const imdsTarget = (state: string): Rule => ({ cmd: 'curl', args: '*meta-data/autoscaling/target-lifecycle-state', stdout: state });
  // By the time systemd runs the ExecStop, the kubelet's graceful node shutdown (30 s) has
  // stopped every pod, the static etcd included: the local member is down, and the ASG has this
  // instance in Terminating:Proceed.
  const LEAVING: Instance = { ...NEW_B, lifecycle: 'Terminating:Proceed' };
  const self = () => world({ 'i-a': A, 'i-c': C, 'i-new': LEAVING }, [member('aa01', A.ip), member('bb01', NEW_B.ip, false), member('cc01', C.ip)]);

  it('stops before the kubelet and containerd (the network is still up) and stays active once done; workers have no ExecStop', () => {
    expect(unit).toMatch(/^After=network-online\.target containerd\.service kubelet\.service$/m);
    expect(unit).toMatch(/^Type=oneshot\nRemainAfterExit=yes\n/m);
    expect(unitOf(inputFor('production', 'worker'))).not.toMatch(/^ExecStop=/m);
  });

  it('a reboot (target state InService) keeps the member', () => {
    const w = self();
    const result = shutdown(w, imdsTarget('InService'));
    expect(result.status, result.stderr).toBe(0);
    expect(callsOf(result.calls, 'etcdctl', 'aws', 'kubeadm', 'systemctl')).toEqual([]);
    expect(result.stderr).toContain('not terminating: member kept');
    expect(w.members()).toEqual([A.ip, `${NEW_B.ip} (down)`, C.ip].sort());
  });

  it('a stop outside the ASG, or no answer from IMDS (not in an ASG: 404), keeps the member', () => {
    for (const rule of [imdsTarget('Standby'), { cmd: 'curl', args: '*meta-data/autoscaling/target-lifecycle-state', exit: 22 }]) {
      const w = self();
      const result = shutdown(w, rule);
      expect(callsOf(result.calls, 'etcdctl')).toEqual([]);
      expect(w.members()).toEqual([A.ip, `${NEW_B.ip} (down)`, C.ip].sort());
    }
  });

  it('the ASG terminating it (target state Terminated) removes its own, already stopped, member through the other members', () => {
    const w = self();
    const result = shutdown(w, imdsTarget('Terminated'));
    expect(result.status, result.stderr).toBe(0);
    const peers = `--endpoints=https://${A.ip}:2379,https://${C.ip}:2379`;
    expect(callsOf(result.calls, 'etcdctl')).toEqual([`etcdctl ${peers} member list -w simple`, `etcdctl ${peers} member remove bb01`]);
    expect(w.members()).toEqual([A.ip, C.ip].sort());
  });

  it('cannot leave without a running majority of the others, and keeps the member', () => {
    const w = world({ 'i-a': A, 'i-c': C, 'i-new': LEAVING }, [member('aa01', A.ip), member('bb01', NEW_B.ip, false), member('cc01', C.ip, false)]);
    const result = shutdown(w, imdsTarget('Terminated'));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('request timed out');
    expect(w.members()).toEqual([A.ip, `${NEW_B.ip} (down)`, `${C.ip} (down)`].sort());
  });
});

describe('fakes/etcd.sh follows etcd membership semantics', () => {
  const etcdctl = (w: ReturnType<typeof world>, endpoint: string, ...args: string[]) => {
    const r = spawnSync('bash', ['-c', `. '${ETCD_MODEL}' etcdctl "$@"`, 'etcdctl', `--endpoints=https://${endpoint}:2379`, ...args], { encoding: 'utf8', env: { ...process.env, ...w.env } });
    return { status: r.status, out: `${r.stdout}${r.stderr}`.trim() };
  };

  it('removes a down member, refuses a running one whose loss breaks the running majority, and an unknown id', () => {
    const w = world({}, [member('aa01', A.ip), member('bb01', NEW_B.ip), member('cc01', C.ip, false)]);
    expect(etcdctl(w, A.ip, 'member', 'remove', 'ff01')).toEqual({ status: 1, out: 'Error: etcdserver: member not found' });
    expect(etcdctl(w, A.ip, 'member', 'remove', 'bb01')).toEqual({ status: 1, out: 'Error: etcdserver: unhealthy cluster' });
    expect(etcdctl(w, A.ip, 'member', 'remove', 'cc01').status).toBe(0);
    // {A, B}, both running: removing B leaves A, a quorum of one; etcd allows it.
    expect(etcdctl(w, A.ip, 'member', 'remove', 'bb01').status).toBe(0);
    expect(w.members()).toEqual([A.ip]);
  });

  it('refuses a removal that leaves fewer started members than a quorum (a join that never started)', () => {
    const w = world({}, [member('aa01', A.ip), member('bb01', NEW_B.ip), { ...member('dd01', '10.20.0.40', false), started: false }]);
    expect(etcdctl(w, A.ip, 'member', 'list', '-w', 'simple').out).toBe(
      ['aa01, started, ip-10-20-0-10, https://10.20.0.10:2380, https://10.20.0.10:2379, false', 'bb01, started, ip-10-20-1-20, https://10.20.1.20:2380, https://10.20.1.20:2379, false', 'dd01, unstarted, , https://10.20.0.40:2380, , false'].join('\n'),
    );
    expect(etcdctl(w, A.ip, 'member', 'remove', 'bb01')).toEqual({ status: 1, out: 'Error: etcdserver: re-configuration failed due to not enough started members' });
    expect(etcdctl(w, A.ip, 'member', 'remove', 'dd01').status).toBe(0);
  });

  it('answers nothing without a running member at the endpoints or without a running majority', () => {
    const w = world({}, [member('aa01', A.ip), member('bb01', NEW_B.ip, false), member('cc01', C.ip, false)]);
    expect(etcdctl(w, NEW_B.ip, 'member', 'list')).toMatchObject({ status: 1, out: expect.stringContaining('context deadline exceeded') });
    expect(etcdctl(w, A.ip, 'member', 'list')).toMatchObject({ status: 1, out: expect.stringContaining('request timed out') });
  });
});
