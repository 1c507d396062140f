export * from './render-user-data';
export * from './timings';
export * from './user-data-input';
export * from './versions';
// Which scripts each role ships, for checks elsewhere (the node IAM policies must allow every `aws` call).
export { ROLE_SCRIPTS, SCRIPTS_DIR } from './private/script-bundle';
