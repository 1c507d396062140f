export * from './render-user-data';
export * from './timings';
export * from './user-data-input';
export * from './versions';
