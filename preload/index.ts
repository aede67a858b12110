import { contextBridge, ipcRenderer } from 'electron';
import { PRELOAD_GLOBAL_NAME } from '../protocol/preload-api';
import { buildPreloadApi } from './api';

contextBridge.exposeInMainWorld(PRELOAD_GLOBAL_NAME, buildPreloadApi(ipcRenderer));
