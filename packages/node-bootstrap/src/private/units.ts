import { IMDS_FENCE, imdsFenced, type ClusterDefinition } from '@platform/platform-config';
import { joinMaterialTimings, serviceAccountKeyTimings, snapshotSchedule } from '../timings';

/*
 * systemd units. Script output goes to the journal under the unit's SyslogIdentifier
 * (`journalctl -t node-bootstrap`), and failures restart the bootstrap rather than leave a
 * half-made node: every step is idempotent.
 */

// An array value repeats its key (several ExecStartPre= run in order).
const unit = (sections: Record<string, Record<string, string | number | readonly string[]>>) =>
  Object.entries(sections)
    .map(([name, keys]) => `[${name}]\n${Object.entries(keys).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k}=${x}`)).join('\n')}\n`)
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

// No Persistent=: it only acts on OnCalendar= timers (systemd.timer(5)), so it was bytes for nothing.
function timer(description: string, everySeconds: number, jitterSeconds: number, onBoot = '5min'): string {
  return unit({
    Unit: { Description: description },
    Timer: { OnBootSec: onBoot, OnUnitActiveSec: `${everySeconds}s`, RandomizedDelaySec: `${jitterSeconds}s` },
    Install: { WantedBy: 'timers.target' },
  });
}

/*
 * A control-plane node leaves etcd through the unit that made it a member: node-bootstrap.service
 * stays active once done (RemainAfterExit), so systemd runs its ExecStop at every shutdown, reboots
 * included; the script removes the member only when the ASG is terminating the instance. The
 * kubelet's graceful node shutdown has stopped every pod, the static etcd included, before systemd
 * stops units: the script removes the member through the other members, while the network (which
 * this unit is After=) is still up. One unit more would cost user-data bytes (16 KB).
 */
const LEAVE = `/bin/bash ${LIB}/control-plane.sh leave`;
const LEAVE_AFTER = 'network-online.target containerd.service kubelet.service';

/*
 * The script bundle is fetched (SHA-256 checked) and unpacked by the unit's own start, not by
 * cloud-init: a failed ExecStartPre= fails the start, Restart=on-failure starts it again 30 s
 * later and StartLimitIntervalSec=0 never stops that, so a node whose S3 fetch failed keeps
 * trying until S3 answers instead of running a bootstrap.sh that is not there. A hash mismatch
 * fails every start the same way: the bundle never runs. The cached .lzma makes a reboot offline.
 */
export function systemdUnits(role: 'control-plane' | 'worker', cluster: ClusterDefinition, fetchBundleArgs: readonly string[]): Record<string, string> {
  const units: Record<string, string> = {
    'node-bootstrap.service': unit({
      Unit: { Description: 'Kubernetes node bootstrap (kubeadm init or join)', Wants: 'network-online.target', After: role === 'control-plane' ? LEAVE_AFTER : 'network-online.target', StartLimitIntervalSec: 0 },
      Service: {
        Type: 'oneshot',
        RemainAfterExit: 'yes',
        ExecStartPre: [`/usr/bin/python3 ${LIB}/fetch-bundle.py ${fetchBundleArgs.join(' ')} ${LIB}/bundle.sh`, `/bin/bash ${LIB}/bundle.sh`],
        ExecStart: `/bin/bash ${LIB}/bootstrap.sh`,
        ...(role === 'control-plane' ? { ExecStop: LEAVE } : {}),
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
    units['kubelet-serving-approver.timer'] = timer('kubelet serving certificate approval', KUBELET_SERVING_APPROVAL_SECONDS, 5);
    // Every node converges on the signing-key rotation's phase in SSM by itself (no apply by hand).
    const keys = serviceAccountKeyTimings();
    units['service-account-keys.service'] = unit({
      Unit: { Description: 'Apply the service-account key rotation phase in SSM', Wants: 'network-online.target', After: 'network-online.target node-bootstrap.service' },
      Service: { Type: 'oneshot', ExecStart: `/bin/bash ${LIB}/service-account-key-rotation.sh apply`, TimeoutStartSec: `${keys.applyTimeoutSeconds}s`, SyslogIdentifier: 'service-account-keys' },
    });
    units['service-account-keys.timer'] = timer('service-account key rotation apply', keys.applyEverySeconds, keys.jitterSeconds, `${keys.applyEverySeconds}s`);
  }
  if (imdsFenced(cluster)) Object.assign(units, imdsFenceUnits());
  return units;
}

/**
 * The IMDS fence's re-arm (node-prep.sh imds-fence): before every kubelet start, so a kubelet whose
 * fence cannot be armed never starts (fail closed), and on a short timer, because the pod slice can
 * be made again while the kubelet runs (the rule then points at a cgroup that no longer exists).
 */
export function imdsFenceUnits(): Record<string, string> {
  const command = `/bin/bash ${LIB}/node-prep.sh imds-fence`;
  return {
    'kubelet.service.d/20-imds-fence.conf': unit({ Service: { ExecStartPre: command } }),
    'imds-fence.service': unit({ Unit: { Description: 'Re-arm the IMDS fence when the pod slice was made again' }, Service: { Type: 'oneshot', ExecStart: command, SyslogIdentifier: 'imds-fence' } }),
    'imds-fence.timer': unit({
      Unit: { Description: 'IMDS fence check' },
      Timer: { OnBootSec: '30s', OnUnitActiveSec: `${IMDS_FENCE.recheckSeconds}s`, AccuracySec: '1s' },
      Install: { WantedBy: 'timers.target' },
    }),
  };
}
