/** Project cost: cost per work order, contract and project (labour, travel and parts). */
import { assembleBoard, type DashboardJson } from '../board.ts';
import { customerVariable, kpiBars, kpiStat, kpiTable, siteVariable } from '../panels.ts';

export function projectCostBoard(): DashboardJson {
  return assembleBoard({
    uid: 'om-project-cost',
    title: 'Project cost',
    description: 'Cost of completed work (labour, travel, parts) per work order, contract and project.',
    tags: ['cost', 'kpi'],
    from: 'now-90d',
    variables: [siteVariable(), customerVariable()],
    sections: [
      {
        panels: [kpiStat('cost_per_work_order', 24), kpiBars('cost_by_project'), kpiBars('cost_by_contract'), kpiTable('cost_by_work_order', 24)],
      },
    ],
  });
}
