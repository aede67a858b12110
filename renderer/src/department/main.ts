/** The department liaison page (部门联络员端), served by the backend at /department/: see backend/department-api.ts. */
import { createApp } from 'vue';
import DepartmentApp from './DepartmentApp.vue';
import { i18n, savedLocale, setLocale } from './i18n';

setLocale(savedLocale());
createApp(DepartmentApp).use(i18n).mount('#department');
