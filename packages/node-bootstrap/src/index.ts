export * from './render-user-data';
export * from './user-data-input';
