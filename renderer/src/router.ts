import { createRouter, createWebHashHistory, type Router } from 'vue-router';
import { ADMIN_WORKSPACES, WORKSPACES } from './workspaces';

const views = {
  map: () => import('./views/MapView.vue'),
  kpi: () => import('./views/KpiView.vue'),
  video: () => import('./views/VideoWallView.vue'),
  dispatch: () => import('./views/DispatchView.vue'),
  // The view itself says so when the signed-in user is not an administrator (the address can be typed).
  'base-data': () => import('./views/BaseDataView.vue'),
  audit: () => import('./views/AuditView.vue'),
  users: () => import('./views/UsersView.vue'),
} as const;

/** Captured before the router's catch-all rewrites the address: did the user ask for a workspace? */
export const launchedWithWorkspace = /^#\/[a-z]/.test(window.location.hash);

/** Hash history: works the same on app:// in Electron and on the browser host. */
export function createConsoleRouter(): Router {
  return createRouter({
    history: createWebHashHistory(),
    routes: [
      ...[...WORKSPACES, ...ADMIN_WORKSPACES].map((w) => ({ path: w.path, name: w.id, component: views[w.id] })),
      // 复盘报告 of one event (opened from the event detail; printed through the browser's print).
      { path: '/review/:eventId', name: 'review', component: () => import('./review/ReviewReport.vue') },
      { path: '/:pathMatch(.*)*', redirect: '/map' },
    ],
  });
}
