export * from './domain';
export * from './hub-api';
export * from './validate';
export * from './wire';
export * from './hub-client';
export * from './preload-api';
export * from './ipc-channels';
