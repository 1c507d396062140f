/**
 * Documented defaults behind the recovery estimates. Each is used only when the synthesized
 * output does not say otherwise; the report names which one was used.
 */
export const RECOVERY_DEFAULTS = {
  /** kube-controller-manager --node-monitor-grace-period: 40 s up to 1.31, 50 s from 1.32 (kubernetes#121793). */
  nodeMonitorGracePeriodSeconds(kubernetesVersion: string | undefined): number {
    const [major, minor] = (kubernetesVersion ?? '').split('.').map(Number);
    return Number.isFinite(minor) && (major < 1 || (major === 1 && minor < 32)) ? 40 : 50;
  },
  /** DefaultTolerationSeconds admission: not-ready / unreachable NoExecute tolerations. */
  unreachableTolerationSeconds: 300,
  /** cluster-autoscaler scan interval (10 s) plus its pending-pod reaction. */
  autoscalerReactionSeconds: 30,
  /** EC2 instance from RunInstances to a booted OS. */
  instanceLaunchSeconds: 90,
  /** cloud-init: containerd, kubeadm join, CNI ready (node-bootstrap's budget). */
  nodeBootstrapSeconds: 120,
} as const;

/** Seconds until new nodes join once pods are pending. */
export function capacityRecoverySeconds(): number {
  return RECOVERY_DEFAULTS.autoscalerReactionSeconds + RECOVERY_DEFAULTS.instanceLaunchSeconds + RECOVERY_DEFAULTS.nodeBootstrapSeconds;
}
