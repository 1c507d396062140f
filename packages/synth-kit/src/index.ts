export * from './atomic-directory';
export * from './run-cli';
export * from './stable-json';
export * from './tree';
