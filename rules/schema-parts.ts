/** Schema pieces shared by every rule kind's definition (no imports from rule modules: no cycles). */
import { Type } from 'typebox';

export const SEVERITY = Type.Union([Type.Literal('critical'), Type.Literal('major'), Type.Literal('minor'), Type.Literal('warning')]);
export const PRIORITY = Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high'), Type.Literal('urgent')]);
export const METRIC = Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$', description: 'metric name as sent in telemetry' });
