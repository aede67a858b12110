/**
 * What a page's JS heap holds, split by kind, from a heap snapshot taken over the DevTools protocol: compiled
 * code (bytecode and machine code that V8 keeps adding while it optimizes the functions a page keeps running),
 * strings, and everything else (the page's objects: the data, the DOM wrappers, the stores). A soak uses it to
 * tell a leak (objects growing) from the JIT's warm-up (code growing toward the size of what the page runs).
 */
import type { Page } from 'playwright-core';

export interface HeapSplit {
  code: number;
  strings: number;
  objects: number;
}

interface SnapshotMeta {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
}

const STRINGS = new Set(['string', 'concatenated string', 'sliced string']);

/** Takes a heap snapshot of the page (after the snapshot's own full GC) and sums the self sizes by kind, in bytes. */
export async function heapSplit(page: Page): Promise<HeapSplit> {
  const cdp = await page.context().newCDPSession(page);
  const chunks: string[] = [];
  cdp.on('HeapProfiler.addHeapSnapshotChunk', (e: { chunk: string }) => void chunks.push(e.chunk));
  try {
    await cdp.send('HeapProfiler.enable');
    await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  } finally {
    await cdp.detach().catch(() => undefined);
  }
  const snapshot = JSON.parse(chunks.join('')) as SnapshotMeta;
  const fields = snapshot.snapshot.meta.node_fields;
  const typeNames = snapshot.snapshot.meta.node_types[0];
  const [width, typeAt, sizeAt] = [fields.length, fields.indexOf('type'), fields.indexOf('self_size')];
  const split: HeapSplit = { code: 0, strings: 0, objects: 0 };
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const type = typeNames[snapshot.nodes[i + typeAt]!]!;
    const size = snapshot.nodes[i + sizeAt]!;
    if (type === 'code') split.code += size;
    else if (STRINGS.has(type)) split.strings += size;
    else split.objects += size;
  }
  return split;
}
