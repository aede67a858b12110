import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { createConsoleRouter } from './router';
import { createConsoleI18n } from './i18n';
import { connectHub } from './transports/connect';
import { useHubStore } from './stores/hub';
import { useCallsStore } from './stores/calls';
import { installCspRecovery } from './csp-recovery';
import './styles/theme.css';

const app = createApp(App);
const pinia = createPinia();
app.use(pinia).use(createConsoleRouter()).use(createConsoleI18n());
app.mount('#app');

const hub = useHubStore(pinia);
// A window opened before the backend was known reloads once for it (the embedded backend's loopback is named from
// the first load, so this is for a configured backend that moved). The SIP server is not: the call bar asks
// (stores/calls.ts), a reload by itself would throw away a dispatcher's work.
useCallsStore(pinia);
installCspRecovery(() => [hub.connection?.backendUrl ?? null, ...(hub.connection?.backendUrls ?? [])]);
void hub.attach(() => connectHub((detail) => hub.linkLost(detail)));
window.addEventListener('beforeunload', () => void hub.detach());
