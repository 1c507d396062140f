export * from './render-user-data';
export * from './timings';
export * from './user-data-input';
export * from './versions';
// Which scripts each role ships, for checks elsewhere (the node IAM policies must allow every `aws` call).
export { ROLE_SCRIPTS, SCRIPTS_DIR } from './private/script-bundle';
// The bundle object infrastructure uploads for each role (bucket names.bootstrapBucket, key bootstrapNames().bundleKey(role)).
export { bundleObject as bootstrapBundle, type BundleObject } from './private/script-bundle';
// Where a node keeps its kubeadm patches and the kube-apiserver patch's file name (the e2e emulated kubeadm reads that file).
export { KUBEADM_PATCHES_DIR, KUBE_APISERVER_PATCH_FILE } from './private/kubeadm-config';
// Every download's pinned SHA-256, and the script the node image bake runs (aws-cluster's image pipeline).
export * from './download-lock';
export * from './image-bake';
