/**
 * The table both SQLite files keep their records in (the backend's store and the hub's cache hold the same
 * records, keyed by collection and id), created by each file's first migration.
 */
export const ENTITIES_TABLE_SQL = `
      CREATE TABLE entities (
        collection TEXT NOT NULL,
        id TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (collection, id)
      ) WITHOUT ROWID;`;

/**
 * One data change both SQLite files make in that table: an event's history (timeline) moves out of the event's record into records of its own (collection
 * `timeline`, id `${eventId}.${index}`), and the event keeps `timelineCount` and `actors` (who acted on it,
 * newest last, at most 50). Plain SQL with SQLite's JSON functions (and an ordered aggregate, SQLite 3.44+: the
 * one better-sqlite3 bundles), so it runs inside the numbered migration's transaction.
 */
export const SPLIT_EVENT_TIMELINES_SQL = `
      INSERT OR REPLACE INTO entities (collection, id, data)
        SELECT 'timeline', e.id || '.' || printf('%04d', j.key),
               json_set(j.value, '$.id', e.id || '.' || printf('%04d', j.key), '$.eventId', e.id,
                        '$.districtId', json_extract(e.data, '$.districtId'), '$.index', j.key)
        FROM entities e, json_each(e.data, '$.timeline') j
        WHERE e.collection = 'events';
      -- Who acted on the event, newest last (at most 50): what "mine" needs without the whole history.
      UPDATE entities SET data = json_set(json_remove(data, '$.timeline'),
          '$.timelineCount', json_array_length(data, '$.timeline'),
          '$.actors', json((SELECT json_group_array(actor ORDER BY last) FROM (
              SELECT json_extract(t.value, '$.actor') AS actor, MAX(t.key) AS last
              FROM json_each(entities.data, '$.timeline') t GROUP BY 1 ORDER BY last DESC LIMIT 50))))
        WHERE collection = 'events' AND json_type(data, '$.timeline') = 'array';
`;
