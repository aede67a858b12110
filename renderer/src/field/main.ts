/** The field client (网格通, 外勤端), served by the backend at /field/: see backend/sip/field.ts. */
import { createApp } from 'vue';
import FieldApp from './FieldApp.vue';
import { registerWorker } from './app-update';
import { i18n, savedLocale, setLocale } from './i18n';
import './field.css';

setLocale(savedLocale());
createApp(FieldApp).use(i18n).mount('#field');

// The service worker (built by scripts/field-pwa.ts) keeps the app shell for offline starts from the home screen;
// a new build is offered in the app, never forced on a running page (app-update.ts).
// Browsers allow it on https and on localhost; elsewhere (plain http on a LAN) the app works, online only.
if ('serviceWorker' in navigator && import.meta.env.PROD) {
  void registerWorker('./sw.js').catch((e: unknown) => console.warn('网格通：离线缓存未启用', e));
}
