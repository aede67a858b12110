/** Small domain vocabularies shared by every process. The full model arrives with wire protocol v1's message set. */
import { z } from 'zod';

/** 平急转换: 日常全域覆盖 / 重点区域时段加强 / 应急响应. */
export const CommandLevel = z.enum(['daily', 'reinforced', 'emergency']);
export type CommandLevel = z.infer<typeof CommandLevel>;

// 调度员 / 领导 / 值班员 / 演示(只读) / 系统管理员 / 督查 (read-only, reads the audit) / 部门联络员 (the department
// page) / 网格员 (the field app). The last two never use the console (domain/permissions.ts APP_OF_ROLE).
export const UserRole = z.enum(['dispatcher', 'leader', 'duty', 'viewer', 'admin', 'inspector', 'liaison', 'field']);
export type UserRole = z.infer<typeof UserRole>;

/** What one window (one display) shows. "combined" is the single-monitor layout with all four workspaces. */
export const DisplayRole = z.enum(['combined', 'map', 'kpi', 'video', 'dispatch']);
export type DisplayRole = z.infer<typeof DisplayRole>;

export const Locale = z.enum(['zh-CN', 'en']);
export type Locale = z.infer<typeof Locale>;

export const Theme = z.enum(['day', 'night']);
export type Theme = z.infer<typeof Theme>;
