import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { calendarIntervalMinutes, envFile, joinTaints, readUserData, timeSpanSeconds, userDataHints } from '../src/private/user-data';

/** User data as CDKTF writes it: `${base64gzip(join("", [...]))}`, JSON string parts with escaped newlines around references. */
const cdktf = (parts: Array<string | { ref: string }>): string => `\${base64gzip(join("", [${parts.map((p) => (typeof p === 'string' ? JSON.stringify(p) : p.ref)).join(', ')}]))}`;

const kubeadm = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncontrollerManager:\n  extraArgs:\n    - name: node-monitor-grace-period\n      value: 20s\napiServer:\n  extraArgs:\n    - name: default-unreachable-toleration-seconds\n      value: '35'\n";
const indent = (text: string): string => text.split('\n').map((l) => `      ${l}`).join('\n');

describe('user data', () => {
  const raw = cdktf([
    "#cloud-config\nwrite_files:\n  - path: /etc/node-bootstrap/env\n    content: |\n      API_ENDPOINT='",
    { ref: 'aws_lb.api.dns_name' },
    `'\n  - path: /etc/systemd/system/join-material-refresh.timer\n    content: |\n      [Timer]\n      OnUnitActiveSec=300s\n  - path: /etc/systemd/system/etcd-snapshot.timer\n    content: |\n      [Timer]\n      OnCalendar=*-*-* *:00/20:00\n  - path: /etc/node-bootstrap/kubeadm-init.yaml.tmpl\n    content: |\n${indent(kubeadm)}\n  - path: /opt/x.sh\n    encoding: gz+b64\n    content: ${gzipSync('echo hi\n').toString('base64')}\n`,
  ]);

  it('reads the files of a base64gzip(join(...)) expression, references kept in place', () => {
    const ud = readUserData(raw);
    expect(ud.references).toEqual(['aws_lb.api.dns_name']);
    expect(envFile(ud.files.get('/etc/node-bootstrap/env') ?? '').get('API_ENDPOINT')).toBe('${aws_lb.api.dns_name}');
    expect(ud.files.get('/opt/x.sh')).toBe('echo hi\n');
  });

  it('takes each hint from the unit or file that sets it, by name: the join-refresh timer is not the snapshot schedule', () => {
    expect(userDataHints(raw)).toEqual({ nodeMonitorGracePeriodSeconds: 20, defaultUnreachableTolerationSeconds: 35, etcdSnapshotIntervalMinutes: 20 });
  });

  it('reads the HPA sync period from the same kubeadm configuration (v1beta4 name/value extraArgs)', () => {
    const withSync = kubeadm.replace('      value: 20s\n', '      value: 20s\n    - name: horizontal-pod-autoscaler-sync-period\n      value: 30s\n');
    const ud = cdktf([`#cloud-config\nwrite_files:\n  - path: /etc/node-bootstrap/kubeadm-init.yaml.tmpl\n    content: |\n${indent(withSync)}\n`]);
    expect(userDataHints(ud)).toMatchObject({ nodeMonitorGracePeriodSeconds: 20, hpaSyncPeriodSeconds: 30 });
    // node-bootstrap sets none today: the upstream default (15 s) applies.
    expect(userDataHints(raw).hpaSyncPeriodSeconds).toBeUndefined();
  });

  it('understands systemd time spans and calendar expressions', () => {
    expect([timeSpanSeconds('900s'), timeSpanSeconds('15min'), timeSpanSeconds('1h 30min'), timeSpanSeconds('120'), timeSpanSeconds('soon')]).toEqual([900, 900, 5400, 120, undefined]);
    expect(['*:0/15', '*-*-* *:00/15:00', 'hourly', '*:00,30', '02:00', '8..18:00', 'Mon *-*-* 02:00', 'daily'].map(calendarIntervalMinutes)).toEqual([15, 15, 60, 30, 1440, 840, undefined, 1440]);
  });
});

describe('kubeadm join taints', () => {
  it('reads nodeRegistration.taints of the join configuration node-bootstrap writes', () => {
    const join = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\nnodeRegistration:\n  taints:\n    - key: dedicated\n      value: batch\n      effect: NoSchedule\n";
    const raw = cdktf([`#cloud-config\nwrite_files:\n  - path: /etc/node-bootstrap/kubeadm-join.yaml.tmpl\n    content: |\n${indent(join)}\n`]);
    expect(joinTaints(raw)).toEqual([{ key: 'dedicated', value: 'batch', effect: 'NoSchedule' }]);
  });
});
