/** The KPI wall's figures (考核指标): each ratio says what it was computed from. */
import { z } from 'zod';
import { IsoTime } from './primitives';

/** A ratio that explains itself: the value and what it was computed from. */
export const Ratio = z.object({ numerator: z.number(), denominator: z.number(), value: z.number().nullable() });
export type Ratio = z.infer<typeof Ratio>;

export const KpiPeriod = z.enum(['today', '7d', '30d']);
export type KpiPeriod = z.infer<typeof KpiPeriod>;

export const KpiSnapshot = z.object({
  id: KpiPeriod,
  computedAt: IsoTime,
  from: IsoTime,
  to: IsoTime,
  reportingCoverage: Ratio, // 信息上报覆盖率
  dispatchInTimeRate: Ratio, // 实时派单率
  closureRate: Ratio, // 处置办结率
  onTimeClosureRate: Ratio, // 按时办结率
  satisfactionRate: Ratio, // 满意率
  overdueCount: z.number().int().nonnegative(),
  staffOnlineRate: Ratio,
  /** 到岗率: 下沉干部 on duty / called, while the level in force calls them; null when it does not. */
  cadreArrivalRate: Ratio.nullable().optional(),
  cameraOnlineRate: Ratio,
  hotlineVolume: z.number().int().nonnegative(),
  bySource: z.record(z.string(), z.number().int()),
  byCategory: z.record(z.string(), z.number().int()),
  byDistrict: z.array(
    z.object({
      districtId: z.string(),
      reported: z.number().int(),
      closed: z.number().int(),
      overdue: z.number().int(),
      closureRate: Ratio,
      satisfactionRate: Ratio,
      /** Composite score for the district ranking (一周一统计, 一月一通报); higher is better. */
      score: z.number(),
    }),
  ),
  trend: z.array(z.object({ date: z.string(), reported: z.number().int(), closed: z.number().int() })),
});
export type KpiSnapshot = z.infer<typeof KpiSnapshot>;
