/** Small domain vocabularies shared by every process. The full model arrives with wire protocol v1's message set. */
import { z } from 'zod';

/** 平急转换: 日常全域覆盖 / 重点区域时段加强 / 应急响应. */
export const CommandLevel = z.enum(['daily', 'reinforced', 'emergency']);
export type CommandLevel = z.infer<typeof CommandLevel>;

/** What one window (one display) shows. "combined" is the single-monitor layout with all four workspaces. */
export const DisplayRole = z.enum(['combined', 'map', 'kpi', 'video', 'dispatch']);
export type DisplayRole = z.infer<typeof DisplayRole>;

export const Locale = z.enum(['zh-CN', 'en']);
export type Locale = z.infer<typeof Locale>;

export const Theme = z.enum(['day', 'night']);
export type Theme = z.infer<typeof Theme>;
