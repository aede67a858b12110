/**
 * 接入密钥 for the administrator's 用户 workspace (Hub API listApiKeys, createApiKey, revokeApiKey): each call goes to
 * the linked backend over HTTP with the link's token (GET/POST /admin/api-keys, POST /admin/api-keys/:id/revoke);
 * nothing is cached, and a new key passes through to the window once, never kept. Refusals as users-admin.ts.
 */
import { ADMIN_API_KEYS_PATH, ApiKeyList, ApiKeyRow, CreatedApiKey, type CreateApiKeyRequest } from '../protocol';
import type { LayerSource } from './city-layers';
import { request } from './users-admin';

export const listApiKeys = (backend: LayerSource | null): Promise<ApiKeyList> => request(backend, 'GET', ADMIN_API_KEYS_PATH, undefined, ApiKeyList);
export const createApiKey = (backend: LayerSource | null, key: CreateApiKeyRequest): Promise<CreatedApiKey> => request(backend, 'POST', ADMIN_API_KEYS_PATH, key, CreatedApiKey);
export const revokeApiKey = (backend: LayerSource | null, id: string): Promise<ApiKeyRow> => request(backend, 'POST', `${ADMIN_API_KEYS_PATH}/${encodeURIComponent(id)}/revoke`, undefined, ApiKeyRow);
