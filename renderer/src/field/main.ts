/** The field client (外勤端), served by the backend at /field/: see backend/sip/field.ts. */
import { createApp } from 'vue';
import FieldApp from './FieldApp.vue';

createApp(FieldApp).mount('#field');
