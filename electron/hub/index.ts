export { Hub, HubSession, MAX_SUBSCRIPTIONS_PER_SESSION, type BackendCredentials, type HubOptions, type SessionInfo } from './hub';
export { HubCache, CACHE_FILE_NAME } from './cache/cache';
export { BackendLink, backoffDelay } from './link';
export { SettingsStore, SETTINGS_FILE_NAME } from './settings-store';
export { createLogger, silentLogger, type Logger, type LogLevel } from '../../common/logger';
export { ObservableValue } from './observable';
export { defaultDataDir } from './paths';
export { startEmbeddedBackend, superviseEmbeddedBackend, type EmbeddedBackend, type EmbeddedBackendOptions } from './embedded-backend';
export { configuredCredentials, embeddedCredentials, CREDENTIALS_FILE_NAME } from './credentials';
