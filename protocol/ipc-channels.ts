/**
 * IPC channel names, kept free of zod so the sandboxed preload bundle stays tiny.
 * hub-api.ts checks at compile time that this list equals its method table.
 */
export const HUB_METHOD_LIST = ['hello', 'getSettings', 'updateSettings', 'subscribe', 'unsubscribe', 'submitCommand', 'retryCommand', 'discardCommand', 'getCityLayer', 'keyPersons', 'readAudit', 'exportAudit', 'recordView', 'showOnWall', 'getWall', 'saveWall', 'saveWallPreset', 'deleteWallPreset', 'logCall', 'restartBackend', 'signIn', 'signOut', 'listUsers', 'createUser', 'updateUser', 'listApiKeys', 'createApiKey', 'revokeApiKey', 'replayStart', 'replaySeek', 'replayPlay', 'replayStop', 'replayTracks', 'eventCalls'] as const;
export type HubMethodName = (typeof HUB_METHOD_LIST)[number];
export const hubIpcChannel = (method: HubMethodName): string => `hub:${method}`;
export const HUB_IPC_UPDATE_CHANNEL = 'hub:update';
