/** Every dashboard the platform ships, built once per process (pure and deterministic). */
import type { DashboardJson } from './board.ts';
import { assetDetailBoard } from './boards/asset-detail.ts';
import { engineerPerformanceBoard } from './boards/engineer-performance.ts';
import { fleetTelemetryBoard } from './boards/fleet-telemetry.ts';
import { maintenanceOperationsBoard } from './boards/maintenance-operations.ts';
import { partsInventoryBoard } from './boards/parts-inventory.ts';
import { projectCostBoard } from './boards/project-cost.ts';

export const BOARD_FACTORIES: readonly (() => DashboardJson)[] = [
  fleetTelemetryBoard,
  assetDetailBoard,
  maintenanceOperationsBoard,
  engineerPerformanceBoard,
  partsInventoryBoard,
  projectCostBoard,
];

export function buildDashboards(): DashboardJson[] {
  return BOARD_FACTORIES.map((f) => f());
}

let cached: readonly DashboardJson[] | undefined;
/** The dashboards, built on first use (deep-frozen: callers get shared objects). */
export function dashboards(): readonly DashboardJson[] {
  cached ??= deepFreeze(buildDashboards());
  return cached;
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object') {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}
