import type { ServiceAccountIdentity } from './service-account-identity';

/**
 * The IMDS fence of every node once pods use web identity. A hostNetwork pod shares the host's network
 * namespace: the IMDS hop limit of 1 does not stop it, and with IMDS it acts as the
 * control-plane instance role (issuer objects, join material). node-bootstrap's node-prep.sh
 * drops the node's IMDS traffic from sockets of the kubelet's pod cgroups (`kubepods.slice`,
 * systemd cgroup driver) except for one uid: the AWS cloud controller's, which core-addons sets
 * as its `runAsUser`. ha-check reads the same constant to decide who on a control-plane node
 * still reaches IMDS. No other pod may run as this uid. Workers get the same fence (`imdsFenced`).
 */
export const IMDS_FENCE = {
  /** The only pod uid that reaches IMDS on a control-plane node (the AWS cloud controller). */
  allowedUid: 64_512,
  /** The kubelet's pod cgroup (cgroup v2, systemd driver), relative to the cgroup2 root. */
  podCgroup: 'kubepods.slice',
  /** The iptables/ip6tables chain node-prep.sh owns (OUTPUT jumps to it for the IMDS addresses). */
  chain: 'NODE-IMDS-FENCE',
  /** IMDS over IPv4 and (Nitro) IPv6. */
  addresses: { ipv4: '169.254.169.254/32', ipv6: 'fd00:ec2::254/128' },
} as const;

/**
 * Whether a cluster's nodes fence IMDS off from pods: once pods get their own credentials
 * (`podCredentials: 'web-identity'`). Before that stage the add-ons' host-network fallback
 * (node-termination-handler, EBS CSI, cluster-autoscaler on the control plane) needs the node
 * role through IMDS. Workers too: their role reads the join token, and a bootstrap token
 * registers a node under any name; no pod on a worker needs IMDS with web identity.
 */
export function imdsFenced(cluster: { readonly serviceAccountIdentity: Pick<ServiceAccountIdentity, 'podCredentials'> }): boolean {
  return cluster.serviceAccountIdentity.podCredentials === 'web-identity';
}
