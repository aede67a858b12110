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
const calls = useCallsStore(pinia);
// The SIP server is trusted like the backend: a window opened before either was known reloads once.
installCspRecovery(() => [hub.connection?.backendUrl ?? null, ...(hub.connection?.backendUrls ?? []), calls.account?.url ?? null]);
void hub.attach(() => connectHub((detail) => hub.linkLost(detail)));
window.addEventListener('beforeunload', () => void hub.detach());
