import type { ServiceAccountIdentity } from './service-account-identity';

/**
 * The IMDS fence of every node once pods use web identity (from the stage `complete`, see `imdsFenced`). A hostNetwork pod shares the host's network
 * namespace: the IMDS hop limit of 1 does not stop it, and with IMDS it acts as the
 * control-plane instance role (issuer objects, join material). node-bootstrap's node-prep.sh
 * drops the node's IMDS traffic from every socket of the kubelet's pod cgroups (`kubepods.slice`,
 * systemd cgroup driver): no pod reaches IMDS, the AWS cloud controller included (it has its own
 * workload identity, `cloud-controller`). No uid is exempt: a uid is something any pod may claim.
 * The rule names a cgroup the kernel resolves once, so the fence re-arms whenever the slice's
 * cgroup id changes (kubelet drop-in and a timer). ha-check reads the env it renders.
 * Workers get the same fence (`imdsFenced`).
 */
export const IMDS_FENCE = {
  /** The kubelet's pod cgroup (cgroup v2, systemd driver), relative to the cgroup2 root. */
  podCgroup: 'kubepods.slice',
  /** The iptables/ip6tables chain node-prep.sh owns (OUTPUT jumps to it for the IMDS addresses). */
  chain: 'NODE-IMDS-FENCE',
  /** IMDS over IPv4 and (Nitro) IPv6. */
  addresses: { ipv4: '169.254.169.254/32', ipv6: 'fd00:ec2::254/128' },
  /** How often the re-arm timer compares the slice's cgroup id with the one the rule was made for. */
  recheckSeconds: 15,
} as const;

/**
 * Whether a cluster's nodes fence IMDS off from pods: at `complete`, one stage after pods got their own
 * credentials. Not at `web-identity` itself: its apply rolls the control plane (the new launch
 * template, fence armed at boot) before the deploy job and Flux move the manifests to web identity, so
 * a fence armed then would cut the cloud controller (still without its own credentials), host-network
 * EBS CSI and cluster-autoscaler off the node role until Flux syncs. At `complete` every web-identity
 * manifest is live already. Before that the add-ons' host-network fallback
 * (node-termination-handler, EBS CSI, cluster-autoscaler on the control plane) needs the node
 * role through IMDS. Workers too: their role reads the join token, and a bootstrap token
 * registers a node under any name; no pod on a worker needs IMDS with web identity. Workers get the
 * fence only when replaced (their launch template changes; node-bootstrap arms it at boot).
 */
export function imdsFenced(cluster: { readonly serviceAccountIdentity: Pick<ServiceAccountIdentity, 'stage'> }): boolean {
  return cluster.serviceAccountIdentity.stage === 'complete';
}
