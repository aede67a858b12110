/**
 * 核实位置 (event.locate): a source system's report whose address could not be placed stands at the city's centre,
 * flagged 位置待核实 (locationUnresolved). The desk confirms its point or moves it — to a point, or to one of the
 * city's places — and the event takes the grid and district of where it now is, loses the flag, and gets a 核实位置
 * entry in its history. Refused: an unknown place, a point outside the city's grids or the actor's area, an
 * event that is closed or merged, or one not flagged (its location is what its reporter gave).
 */
import type { CommandType, LonLat } from '../../protocol';
import { inAreaScope } from '../permissions';
import { alarmIdOf } from '../alarms';
import { upsert } from '../state';
import { CommandError, type Handlers } from './context';
import { entry, eventChanges, eventFor, evolve, timelineId, timelineRecord } from './helpers';

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

export const locateHandlers: Pick<Handlers, Extract<CommandType, 'event.locate'>> = {
  'event.locate'(ctx, p) {
    const event = eventFor(ctx, p);
    if (event.status === 'closed' || event.status === 'merged') {
      throw new CommandError('conflict', { key: 'locate.eventEnded', params: { id: event.id, status: event.status } });
    }
    if (!event.locationUnresolved) throw new CommandError('conflict', { key: 'locate.notUnresolved', params: { id: event.id } });
    let location: LonLat;
    let address: string | undefined = p.address || undefined;
    if (p.placeId !== undefined) {
      const place = ctx.state.get('places', p.placeId);
      if (!place) throw new CommandError('invalid', { key: 'place.notFound', params: { id: p.placeId } });
      location = place.position;
      address ??= place.address ? `${place.name}（${place.address}）` : place.name;
    } else location = [round6(p.location![0]), round6(p.location![1])];
    const where = ctx.locate(location);
    if (!where) throw new CommandError('invalid', { key: 'location.outsideCity', params: { point: location.join(',') } });
    if (!inAreaScope(ctx.actor.districtScope, where, ctx.state)) throw new CommandError('forbidden', { key: 'location.outsideArea', params: { district: where.districtId, grid: where.gridId } });
    const { locationUnresolved: _flag, ...rest } = event;
    const moved = { ...rest, location, address: address ?? (p.location && location.join(',') === event.location.join(',') ? event.address : where.address), gridId: where.gridId, districtId: where.districtId };
    const note = `${moved.address}（${location[0]},${location[1]}，网格 ${where.gridId}）`;
    const next = evolve(ctx, moved, {}, [entry(ctx, 'locate', note)]);
    // The history moves with the event: its records carry the district they are seen in.
    const history = where.districtId === event.districtId ? [] : Array.from({ length: event.timelineCount }, (_, i) => ctx.state.get('timeline', timelineId(event.id, i))).flatMap((r) => (r ? [upsert('timeline', timelineRecord(next.event, r.index, r))] : []));
    // So does its alarm: the old area's consoles are sent its removal, the new area's the alarm.
    const alarm = ctx.state.get('alarms', alarmIdOf(event.id));
    const alarmMoved = alarm ? [upsert('alarms', { ...alarm, districtId: where.districtId, gridId: where.gridId, version: alarm.version + 1 })] : [];
    return { changes: [...eventChanges(next), ...history, ...alarmMoved], result: { eventId: event.id, gridId: where.gridId, version: next.event.version } };
  },
};
