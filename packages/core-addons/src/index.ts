export * from './cilium';
export * from './cloud-controller';
export * from './first-boot';
export * from './flux';
export * from './pins';
export * from './tolerations';
export * from './versions';
export * from './web-identity-env';
