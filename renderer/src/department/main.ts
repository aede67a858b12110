/** The department liaison page (部门联络员端), served by the backend at /department/: see backend/department-api.ts. */
import { createApp } from 'vue';
import DepartmentApp from './DepartmentApp.vue';

createApp(DepartmentApp).mount('#department');
