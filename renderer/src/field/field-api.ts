/** The field page's one call to the backend: who I am, my tasks and the center's dispatchers, checked. */
import { FieldMe } from '../../../protocol/field';
import { validate } from '../../../protocol/validate';

export async function fetchMe(staffId: string, passcode: string): Promise<FieldMe> {
  const response = await fetch('/field/api/me', { headers: { Authorization: `Field ${staffId}:${passcode}` } });
  const body: unknown = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = typeof (body as { error?: unknown }).error === 'string' ? (body as { error: string }).error : `HTTP ${response.status}`;
    throw Object.assign(new Error(message), { status: response.status });
  }
  const checked = validate(FieldMe, body);
  if (!checked.ok) throw Object.assign(new Error('后台返回的数据无法识别'), { status: 0 });
  return checked.value;
}
