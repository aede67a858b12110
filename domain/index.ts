/**
 * The loop's rules, shared by the backend (authoritative) and the hub (optimistic prediction): the state
 * container, the command handlers and the role table. Pure TypeScript: imports protocol/ only.
 */
export { CityState, upsert, type LoadedState } from './state';
export { MAX_REFUSAL_PARAM_CHARS, REFUSALS, WORDS_ZH, fillTemplate, isRefusalKey, refusalReason, refusalWordList, refusalZh, type Refusal, type RefusalAction, type RefusalKey, type RefusalParams, type WordList } from './refusals';
export { CommandError, executeCommand, isCommandType, parseCommand, timelineId, type Actor, type CommandContext, type CommandOutcome, type StateReader } from './commands/index';
export { APP_OF_ROLE, AUDIT_READ_ROLES, BASE_DATA_COMMANDS, KEY_PERSON_REVEAL_ROLES, MASKED_ROLES, ROLE_COMMANDS, inAreaScope, inScope, mayRun, type GridReader, type ScopePlace, type SignInApp } from './permissions';
export { GridLocator, boxOf, distanceMetres, pointInRing, type Box } from './geometry';
export { nearest, suggestDepartment, suggestStaff, type DepartmentSuggestion, type StaffSuggestion } from './suggest';
export { MAX_ACTORS, MAX_COHANDLING_REQUESTS, MAX_TIMELINE_ENTRIES } from './bounds';
export { defaultPlans, openPlan, planFor, planTemplateFor, type PlanTemplate } from './plans';
export { STEP_NAMES, alarmActions, alarmIdOf, isRinging, reasonsDue, type AlarmAction } from './alarms';
export { DEFAULT_LEVEL_PROFILES, cadresCalled, currentLevel, levelProfileOf, rungOf, stepLimitMinutes } from './level-profiles';
export { RETIME_GRACE_MINUTES, retimeOpenEvents, retimedDeadline } from './level-timing';
export { HIDDEN, maskCall, maskDigits, maskKeyPerson, maskName, maskPayload, maskRow } from './privacy';
export { idCheckChar, idNumberProblem, maskIdNumber } from './id-number';
export {
  CODE_PATTERN,
  LEVELS,
  LEVEL_LABELS,
  MAX_LIMIT_MINUTES,
  STEPS,
  STEP_LABELS,
  categoryCodeProblem,
  departmentCodeProblem,
  departmentUses,
  departmentWithCode,
  describeUses,
  isLimit,
  levelProblem,
  liaisonProblem,
  limitProblem,
  listed,
  newDepartmentId,
  openEventsOfCategory,
  parseLevel,
  parseLimit,
  type DepartmentUses,
  type Problem,
  type RowSource,
} from './base-data';
