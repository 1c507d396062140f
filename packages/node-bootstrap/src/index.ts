export * from './render-user-data';
export * from './timings';
export * from './user-data-input';
export * from './versions';
// Which scripts each role ships, for checks elsewhere (the node IAM policies must allow every `aws` call).
export { ROLE_SCRIPTS, SCRIPTS_DIR } from './private/script-bundle';
// The bundle object infrastructure uploads for each role (bucket names.bootstrapBucket, key bootstrapNames().bundleKey(role)).
export { bundleObject as bootstrapBundle, type BundleObject } from './private/script-bundle';
