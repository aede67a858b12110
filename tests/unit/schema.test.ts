import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCHEMA_DIR, generateSchemas, schemaFileText } from '../../scripts/gen-schema';
import { HUB_METHOD_LIST } from '../../protocol';

describe('checked-in JSON Schema', () => {
  it.each(Object.entries(generateSchemas()))('%s matches the zod source (run npm run schema if not)', (file, content) => {
    expect(readFileSync(join(SCHEMA_DIR, file), 'utf8')).toBe(schemaFileText(content));
  });
  it('describes every Hub API method', () => {
    const hub = generateSchemas()['hub-api-v1.schema.json'] as { methods: Record<string, unknown> };
    expect(Object.keys(hub.methods).sort()).toEqual([...HUB_METHOD_LIST].sort());
  });
});
