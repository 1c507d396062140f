import type { ClusterDefinition } from '@platform/platform-config';
import { joinMaterialTimings, snapshotSchedule } from '../timings';

/*
 * systemd units. Script output goes to the journal under the unit's SyslogIdentifier
 * (`journalctl -t node-bootstrap`), and failures restart the bootstrap rather than leave a
 * half-made node: every step is idempotent.
 */

const unit = (sections: Record<string, Record<string, string | number>>) =>
  Object.entries(sections)
    .map(([name, keys]) => `[${name}]\n${Object.entries(keys).map(([k, v]) => `${k}=${v}`).join('\n')}\n`)
    .join('\n');

const LIB = '/opt/node-bootstrap';
/** How often pending kubelet serving CSRs are reviewed: a new node's logs and metrics wait at most this long. */
export const KUBELET_SERVING_APPROVAL_SECONDS = 30;

function oneshot(description: string, command: string, identifier: string): string {
  return unit({
    Unit: { Description: description, Wants: 'network-online.target', After: 'network-online.target node-bootstrap.service' },
    Service: { Type: 'oneshot', ExecStart: `/bin/bash ${LIB}/${command}`, SyslogIdentifier: identifier },
  });
}

function timer(description: string, everySeconds: number, jitterSeconds: number): string {
  return unit({
    Unit: { Description: description },
    Timer: { OnBootSec: '5min', OnUnitActiveSec: `${everySeconds}s`, RandomizedDelaySec: `${jitterSeconds}s`, Persistent: 'false' },
    Install: { WantedBy: 'timers.target' },
  });
}

export function systemdUnits(role: 'control-plane' | 'worker', cluster: ClusterDefinition): Record<string, string> {
  const units: Record<string, string> = {
    'node-bootstrap.service': unit({
      Unit: { Description: 'Kubernetes node bootstrap (kubeadm init or join)', Wants: 'network-online.target', After: 'network-online.target', StartLimitIntervalSec: 0 },
      Service: {
        Type: 'oneshot',
        RemainAfterExit: 'yes',
        ExecStart: `/bin/bash ${LIB}/bootstrap.sh`,
        Restart: 'on-failure',
        RestartSec: '30s',
        TimeoutStartSec: '90min',
        SyslogIdentifier: 'node-bootstrap',
      },
      Install: { WantedBy: 'multi-user.target' },
    }),
  };
  if (role === 'control-plane') {
    const join = joinMaterialTimings();
    const snapshots = snapshotSchedule(cluster);
    units['etcd-snapshot.service'] = oneshot('etcd snapshot to the backup bucket (leader only)', 'etcd-snapshot.sh', 'etcd-snapshot');
    units['etcd-snapshot.timer'] = timer('etcd snapshot schedule', snapshots.intervalMinutes * 60, 30);
    units['join-material-refresh.service'] = oneshot('Refresh kubeadm join material in SSM', 'join-material.sh refresh', 'join-material-refresh');
    units['join-material-refresh.timer'] = timer('kubeadm join material refresh', join.refreshTimerSeconds, join.refreshJitterSeconds);
    // Started (--no-block) by install-addons.sh; After= node-bootstrap.service, so its wait for Flux never delays the bootstrap.
    units['ci-kubeconfig.service'] = oneshot('Publish the region-failover kubeconfig to SSM', 'ci-kubeconfig.sh', 'ci-kubeconfig');
    // Kubelets wait for their serving certificate (kubectl logs/exec, metrics-server) until this runs.
    units['kubelet-serving-approver.service'] = oneshot('Approve kubelet serving certificates of cluster nodes', 'kubelet-serving-approver.sh', 'kubelet-serving-approver');
    // Runs nothing at start (a oneshot may have no ExecStart); its ExecStop runs at shutdown before
    // the kubelet and containerd stop (so etcd still runs; the kubelet is After= the network) and
    // removes the node's etcd member only when the ASG terminates the instance, never on a reboot.
    units['etcd-leave.service'] = unit({
      Unit: { Description: 'Leave etcd when the ASG terminates this node', After: 'containerd.service kubelet.service' },
      Service: { Type: 'oneshot', RemainAfterExit: 'yes', ExecStop: `/bin/bash ${LIB}/control-plane.sh leave`, SyslogIdentifier: 'etcd-leave' },
      Install: { WantedBy: 'multi-user.target' },
    });
    units['kubelet-serving-approver.timer'] = timer('kubelet serving certificate approval', KUBELET_SERVING_APPROVAL_SECONDS, 5);
  }
  return units;
}
