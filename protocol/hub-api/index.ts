/**
 * The Hub API: what a renderer window may ask of the hub (the console's local brain, one per machine).
 * One method table (methods.ts) is the single source for the TypeScript types, the runtime validators on both
 * sides of a bridge (Electron IPC or the browser host's WebSocket) and the JSON Schema in protocol/schema/;
 * the other files hold its vocabulary by topic.
 */
export * from './settings';
export * from './connection';
export * from './rows';
export * from './walls-and-calls';
export * from './wall-layouts';
export * from './errors';
export * from './commands';
export * from './methods';
export * from './replay';
