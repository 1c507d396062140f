import type { ClusterDefinition } from './cluster-definition';
import { APP_DATA_NAMESPACE, type ClusterNames } from './names';

/**
 * The workload identities (IRSA on our own clusters): every pod that calls AWS does so as one
 * of these, through its own IAM role trusted for exactly its service account. The declaration
 * lives here, the one place both sides can import (Nx: aws-cluster and k8s-addons may not import
 * each other): k8s-addons' add-on names its identity (`AddOn.awsIdentity`) and wires its pods
 * with the role, aws-cluster creates the role with the policy it keys by the same id
 * (`Record<WorkloadIdentityId, …>`, so an identity without a policy does not compile).
 */
export const WORKLOAD_IDENTITY_IDS = ['ebs-csi-controller', 'cluster-autoscaler', 'node-termination-handler', 'postgres-backups', 'cloud-controller'] as const;
export type WorkloadIdentityId = (typeof WORKLOAD_IDENTITY_IDS)[number];

export interface WorkloadIdentityDeclaration {
  readonly id: WorkloadIdentityId;
  /** The service account's namespace and name: the token's `sub` is built from them. */
  readonly namespace: string;
  readonly serviceAccount: string;
  /** What the identity does on AWS, for docs and ha-check's report. */
  readonly purpose: string;
  /** Whether `cluster` runs the workload: only those clusters get the role. */
  neededBy(cluster: ClusterDefinition): boolean;
}

/** The CloudNativePG Cluster of the example database: CloudNativePG names its instances' service account after it. */
export const APP_DATABASE = { namespace: APP_DATA_NAMESPACE, name: 'orders' } as const;

/** Every cluster runs the four AWS controllers and the example database (k8s-addons defaultAddOns). */
const everyCluster = (): boolean => true;

export const WORKLOAD_IDENTITIES: { readonly [K in WorkloadIdentityId]: WorkloadIdentityDeclaration & { readonly id: K } } = {
  'ebs-csi-controller': {
    id: 'ebs-csi-controller',
    namespace: 'kube-system',
    // The chart's default (controller.serviceAccount.name), set explicitly by the add-on.
    serviceAccount: 'ebs-csi-controller-sa',
    purpose: 'creates, attaches, resizes and deletes this cluster’s EBS volumes and snapshots',
    neededBy: everyCluster,
  },
  'cluster-autoscaler': {
    id: 'cluster-autoscaler',
    namespace: 'kube-system',
    serviceAccount: 'cluster-autoscaler',
    purpose: 'reads the worker ASGs and sets their desired capacity',
    neededBy: everyCluster,
  },
  'node-termination-handler': {
    id: 'node-termination-handler',
    namespace: 'kube-system',
    serviceAccount: 'aws-node-termination-handler',
    purpose: 'reads the node-termination queue and completes the ASGs’ lifecycle hooks',
    neededBy: everyCluster,
  },
  'postgres-backups': {
    id: 'postgres-backups',
    namespace: APP_DATABASE.namespace,
    serviceAccount: APP_DATABASE.name,
    purpose: 'archives WAL and base backups to the app backup bucket and restores from the archive it replicates',
    neededBy: everyCluster,
  },
  'cloud-controller': {
    id: 'cloud-controller',
    namespace: 'kube-system',
    // The aws-cloud-controller-manager chart's `serviceAccountName` default.
    serviceAccount: 'cloud-controller-manager',
    purpose: 'reads the cluster’s instances and zones to initialise nodes (zone labels, addresses, the uninitialized taint)',
    neededBy: everyCluster,
  },
};

/**
 * The AWS cloud controller's provider config (cloud-provider-aws `[Global]`), which control-plane.sh
 * writes on every control-plane node and the controller mounts read-only. With `VPC`, `SubnetID`
 * and `KubernetesClusterID` set the provider builds no view of its own instance, so it never asks
 * IMDS for its instance id; `Region` keeps it from asking IMDS for the region.
 */
export const CLOUD_CONTROLLER_CONFIG = { path: '/etc/kubernetes/cloud-provider-aws.conf', volume: 'cloud-provider-config' } as const;

/** One identity as a cluster uses it: the declaration plus the derived IAM and token names. */
export interface WorkloadIdentity extends WorkloadIdentityDeclaration {
  /** IAM role name (`names.serviceAccountIssuer.workloadRole(id)`). */
  readonly roleName: string;
  /** `system:serviceaccount:<namespace>:<serviceAccount>`: the only `sub` the role trusts. */
  readonly subject: string;
  /** `arn:aws:iam::<account>:role/<roleName>`: what the pods are given (AWS_ROLE_ARN, the SA annotation). */
  roleArn(accountId: string): string;
}

export function workloadIdentity(names: Pick<ClusterNames, 'serviceAccountIssuer'>, id: WorkloadIdentityId): WorkloadIdentity {
  const declaration = WORKLOAD_IDENTITIES[id];
  const roleName = names.serviceAccountIssuer.workloadRole(id);
  return {
    ...declaration,
    roleName,
    subject: names.serviceAccountIssuer.subject(declaration.namespace, declaration.serviceAccount),
    roleArn: (accountId) => `arn:aws:iam::${accountId}:role/${roleName}`,
  };
}

/** The identities `cluster` runs, in declaration order: aws-cluster makes exactly these roles. */
export function workloadIdentitiesOf(cluster: ClusterDefinition, names: Pick<ClusterNames, 'serviceAccountIssuer'>): WorkloadIdentity[] {
  return WORKLOAD_IDENTITY_IDS.filter((id) => WORKLOAD_IDENTITIES[id].neededBy(cluster)).map((id) => workloadIdentity(names, id));
}

/**
 * Where a pod's projected web-identity token is mounted and for how long it is valid: the kubelet
 * rotates it at 80 % of its life and the SDKs reread the file, so a stolen copy is good for at
 * most an hour (the API server's minimum is 10 minutes).
 */
export const WEB_IDENTITY_TOKEN = { volume: 'aws-iam-token', mountPath: '/var/run/secrets/eks.amazonaws.com/serviceaccount', file: 'token', expirationSeconds: 3600 } as const;

/** The service-account annotation tools (and the EKS webhook convention) read the role from. */
export const ROLE_ARN_ANNOTATION = 'eks.amazonaws.com/role-arn';
