/**
 * The 重点人员 register of one area (Hub API keyPersons), fetched from the linked backend over HTTP with the
 * link's token for every call and never cached or kept: personal data lives in the backend alone, where every
 * read is audited. A demo window asks the backend for masked rows (masked=1) and the hub masks them again
 * itself, so a backend that ignored the flag still shows a demo screen nothing.
 */
import { maskKeyPerson } from '../domain';
import { HubError, KeyPersonsAnswer, describeIssues, validate, type RegisterLevel } from '../protocol';
import type { LayerSource } from './city-layers';

export async function fetchKeyPersons(backend: LayerSource | null, target: { level: RegisterLevel; id: string }, demo: boolean): Promise<KeyPersonsAnswer> {
  if (!backend) throw new HubError('unavailable', '未连接后端，无法查询重点人员 / no backend is linked: the key-person register is read from it, never kept here');
  const query = new URLSearchParams({ level: target.level, id: target.id, ...(demo ? { masked: '1' } : {}) });
  const url = `${backend.url.replace(/^ws/, 'http').replace(/\/ws$/, '')}/city/key-persons?${query}`;
  let response: Response;
  try {
    response = await fetch(url, { headers: { Authorization: `Bearer ${backend.token}` }, signal: AbortSignal.timeout(30_000) });
  } catch (e) {
    throw new HubError('unavailable', `后端不可达，无法查询重点人员 / could not reach the backend for the key-person register: ${(e as Error).message}`);
  }
  if (response.status === 401 || response.status === 403) throw new HubError('unauthorized', (await response.text()).slice(0, 300));
  if (response.status === 404) throw new HubError('not-found', (await response.text()).slice(0, 300));
  if (response.status === 400) throw new HubError('invalid-params', (await response.text()).slice(0, 300));
  if (!response.ok) throw new HubError('unavailable', `后端答复 ${response.status} / the backend answered ${response.status} for the key-person register`);
  const checked = validate(KeyPersonsAnswer, await response.json().catch(() => null));
  if (!checked.ok) throw new HubError('unavailable', `the backend sent an invalid key-person answer: ${describeIssues(checked.issues)}`);
  const answer = checked.value;
  if (!demo) return answer;
  // Defence in depth: whatever the backend sent, a demo screen gets masked rows (masking is idempotent; an
  // address the backend did not reduce to its grid is dropped).
  return { ...answer, revealed: false, maskedBecause: 'demo', rows: answer.rows.map((r) => maskKeyPerson(r, answer.revealed ? '' : r.address)) };
}
