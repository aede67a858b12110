import { describe, expect, it } from 'vitest';
import type { GovEvent, KeyPerson, Place, Staff, TimelineRecord } from '../../protocol';
import { HIDDEN, idCheckChar, idNumberProblem, maskDigits, maskIdNumber, maskKeyPerson, maskName, maskPayload, maskRow } from '../../domain';

describe('privacy masking (迎检演示)', () => {
  it('keeps only the surname, and a role prefix', () => {
    expect(maskName('张三丰')).toBe('张**');
    expect(maskName('李强')).toBe('李*');
    expect(maskName('调度员 张敏')).toBe('调度员 张*');
    expect(maskName('王')).toBe('王*');
  });
  it('blanks phone-like digit runs in free text, keeps short numbers', () => {
    expect(maskDigits('请联系 13800001234 或 0531-8888 6666')).toBe('请联系 *** 或 ***');
    expect(maskDigits('12号楼3单元 502 室，2 人受伤')).toBe('12号楼3单元 502 室，2 人受伤');
  });
  it('masks staff and event rows; leaves units and other collections alone', () => {
    const staff = { id: 's1', name: '刘云淑', phone: '15721956415' } as Staff;
    expect(maskRow('staff', staff)).toMatchObject({ name: '刘**', phone: HIDDEN });
    const event = {
      id: 'E1',
      title: '来电 15721956415 反映噪音',
      description: '报事人电话 15721956415',
      reporter: { name: '刘云淑', phone: '15721956415' },
      evaluation: null,
    } as unknown as GovEvent;
    const masked = maskRow('events', event);
    expect(JSON.stringify(masked)).not.toMatch(/\d{7,}/);
    expect(masked.reporter).toEqual({ name: '刘**', phone: HIDDEN });
    // The history is records of its own, masked as such: people's names, phone-like digits in notes.
    const history: TimelineRecord[] = [
      { id: 'E1.0000', eventId: 'E1', districtId: 'd01', index: 0, at: 't', actor: 'dispatcher', actorName: '调度员 张敏', action: 'accept' },
      { id: 'E1.0001', eventId: 'E1', districtId: 'd01', index: 1, at: 't', actor: 'sim:dept-urban', actorName: '市城市管理局（模拟）', action: 'sign' },
      { id: 'E1.0002', eventId: 'E1', districtId: 'd01', index: 2, at: 't', actor: 'sim:s00001', actorName: '王建', action: 'report', note: '电话 15721956415' },
      {
        id: 'E1.0003', eventId: 'E1', districtId: 'd01', index: 3, at: 't', actor: 'dispatcher', actorName: '调度员 张敏', action: 'call', note: '呼出视频通话 李小龙：已挂断，时长 1:05',
        call: { id: 'call-1', direction: 'outgoing', video: true, peerName: '李小龙', result: 'answered', durationS: 65 },
      },
    ];
    const maskedHistory = history.map((r) => maskRow('timeline', r));
    expect(maskedHistory.map((t) => t.actorName)).toEqual(['调度员 张*', '市城市管理局（模拟）', '王*', '调度员 张*']);
    // A call's entry: the person called, in the call and in its note.
    expect(maskedHistory[3]).toMatchObject({ note: '呼出视频通话 李**：已挂断，时长 1:05', call: { peerName: '李**', durationS: 65 } });
    expect(JSON.stringify(maskedHistory)).not.toContain('李小龙');
    expect(JSON.stringify(maskedHistory)).not.toMatch(/\d{7,}/);
    expect(maskRow('departments', { id: 'd', code: 'x', name: '市公安局' })).toEqual({ id: 'd', code: 'x', name: '市公安局' });
    expect(event.reporter!.phone).toBe('15721956415'); // the original is untouched
  });
  it('masks alarms (phone-like digits in the title, who acknowledged) and the alarms and items of a hand-over', () => {
    const alarm = { id: 'alarm-E1', title: '来电 13912345678 反映漏水', ackedBy: '调度员 张敏', ackNote: '已联系 13912345678' };
    expect(maskRow('alarms', alarm)).toMatchObject({ title: maskDigits(alarm.title), ackedBy: maskName('调度员 张敏'), ackNote: maskDigits('已联系 13912345678') });
    expect(maskRow('alarms', alarm).title).not.toContain('13912345678');
    const handover = { id: 'h1', fromName: '值班员 李强', notes: '', acknowledgedBy: null, openItems: [{ text: '回电 13912345678', eventId: null }], alarms: [{ alarmId: 'a', eventId: 'E1', title: '来电 13912345678', rung: 1 }] };
    const masked = maskRow('handovers', handover);
    expect(JSON.stringify(masked)).not.toContain('13912345678');
  });

  it('masks reporters in queued command payloads', () => {
    expect(maskPayload({ title: 'x 13800001234', reporter: { name: '赵六', phone: '13800001234' }, severity: 2 })).toEqual({ title: 'x ***', reporter: { name: '赵*', phone: HIDDEN }, severity: 2 });
  });
  it("masks a place's contact (name to the surname, phone hidden) and phone-like notes; a place without one passes", () => {
    const place: Place = { id: 'pl-1', code: '1', name: '第一小学', kind: 'school', address: '一巷1号', position: [116.4, 39.9], gridId: 'g1', communityId: 'c1', streetId: 's1', districtId: 'd1', contact: { name: '赵校长', phone: '13900139000' }, note: '值班 13900139000' };
    expect(maskRow('places', place)).toEqual({ ...place, contact: { name: '赵**', phone: HIDDEN }, note: '值班 ***' });
    expect(maskRow('places', { ...place, contact: null, note: '' })).toEqual({ ...place, contact: null, note: '' });
  });
  it('checks ID numbers by GB 11643 and masks them and key-person rows', () => {
    expect(idCheckChar('11010519491231002')).toBe('X'); // the standard's own example
    expect(idNumberProblem('11010519491231002X')).toBeNull();
    expect(idNumberProblem('11010519491231002x')).toBeNull();
    expect(idNumberProblem('110105194912310021')).toMatchObject({ zh: expect.stringContaining('校验位') });
    expect(idNumberProblem('110105194902300021')).toMatchObject({ zh: expect.stringContaining('出生日期') });
    expect(idNumberProblem('1101051949123100')).toMatchObject({ zh: expect.stringContaining('18 位') });
    expect(maskIdNumber('11010519491231002X')).toBe('1101**********002X');
    expect(maskIdNumber(maskIdNumber('11010519491231002X'))).toBe('1101**********002X');
    const row: KeyPerson = { id: 'k1', name: '张三丰', idNumber: '11010519491231002X', category: 'released', gridId: 'g1', address: '一巷1号', phone: '13800138000', level: 1, note: '每月走访' };
    expect(maskKeyPerson(row, '一社区 第1网格')).toEqual({ ...row, name: '张**', idNumber: '1101**********002X', address: '一社区 第1网格', phone: HIDDEN, note: HIDDEN });
  });
});
