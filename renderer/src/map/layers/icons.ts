/** Layer icons drawn on canvases (no image files to fetch, crisp at any scale), cached by glyph and colour. */
import { type Billboard } from 'cesium';

const iconCache = new Map<string, HTMLCanvasElement>();
const iconKey = (glyph: string, fill: string, size: number, ring: string): string => `glyph:${glyph}|${fill}|${size}|${ring}`;

/**
 * Gives a billboard its icon under a stable id. A canvas handed over as `image` gets a fresh id on every
 * add, so the collection's texture atlas kept a copy per add and grew without end on a busy map.
 */
export function setGlyph(billboard: Billboard, glyph: string, fill: string, size: number, ring = '#0a1324'): Billboard {
  const key = iconKey(glyph, fill, size, ring);
  if ((billboard as Billboard & { glyphKey?: string }).glyphKey !== key) {
    billboard.setImage(key, glyphIcon(glyph, fill, size, ring));
    (billboard as Billboard & { glyphKey?: string }).glyphKey = key;
  }
  return billboard;
}

export function glyphIcon(glyph: string, fill: string, size = 30, ring = '#0a1324'): HTMLCanvasElement {
  const key = iconKey(glyph, fill, size, ring);
  const hit = iconCache.get(key);
  if (hit) return hit;
  const c = document.createElement('canvas');
  c.width = c.height = size * 2; // drawn at 2x: sharp on 4K walls
  const g = c.getContext('2d')!;
  g.scale(2, 2);
  g.beginPath();
  g.arc(size / 2, size / 2, size / 2 - 1.5, 0, Math.PI * 2);
  g.fillStyle = fill;
  g.fill();
  g.lineWidth = 2;
  g.strokeStyle = ring;
  g.stroke();
  g.fillStyle = '#0a1324';
  g.font = `bold ${Math.round(size * 0.5)}px "Noto Sans CJK SC", "Microsoft YaHei", sans-serif`;
  g.textAlign = 'center';
  g.textBaseline = 'middle';
  g.fillText(glyph, size / 2, size / 2 + 1);
  iconCache.set(key, c);
  return c;
}
