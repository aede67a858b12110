/** The field client (网格通, 外勤端), served by the backend at /field/: see backend/sip/field.ts. */
import { createApp } from 'vue';
import FieldApp from './FieldApp.vue';
import './field.css';

createApp(FieldApp).mount('#field');

// The service worker (built by scripts/field-pwa.ts) keeps the app shell for offline starts from the home screen.
// Browsers allow it on https and on localhost; elsewhere (plain http on a LAN) the app works, online only.
if ('serviceWorker' in navigator && import.meta.env.PROD) {
  void navigator.serviceWorker.register('./sw.js', { scope: './' }).catch((e: unknown) => console.warn('网格通：离线缓存未启用', e));
}
