export * from './render-user-data';
export * from './timings';
export * from './user-data-input';
export * from './versions';
// Which scripts each role ships, for checks elsewhere (the node IAM policies must allow every `aws` call).
export { ROLE_SCRIPTS, SCRIPTS_DIR } from './private/script-bundle';
// The bundle object infrastructure uploads for each role (bucket names.bootstrapBucket, key bootstrapNames().bundleKey(role)).
export { bundleObject as bootstrapBundle, type BundleObject } from './private/script-bundle';
// Every download's pinned SHA-256, and the script the node image bake runs (aws-cluster's image pipeline).
export * from './download-lock';
export * from './image-bake';
