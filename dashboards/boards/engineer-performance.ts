/** Engineer performance: orders handled, handling time, first-time fix, rating, current load. */
import { assembleBoard, type DashboardJson } from '../board.ts';
import { customerVariable, engineerVariable, kpiBars, siteVariable, sqlBars } from '../panels.ts';

export function engineerPerformanceBoard(): DashboardJson {
  return assembleBoard({
    uid: 'om-engineer-performance',
    title: 'Engineer performance',
    description: 'Per engineer: orders handled, average handling time, first-time fix rate, customer rating and open orders.',
    tags: ['engineers', 'kpi'],
    from: 'now-30d',
    variables: [siteVariable(), customerVariable(), engineerVariable()],
    sections: [
      {
        panels: [
          kpiBars('engineer_orders_handled'),
          kpiBars('engineer_avg_handling_time'),
          kpiBars('engineer_first_time_fix_rate'),
          kpiBars('engineer_rating'),
          sqlBars(
            'Open orders per engineer',
            `SELECT w.engineer_code AS engineer, COUNT(*)::int AS value
  FROM kpi_work_orders w
 WHERE w.is_open AND w.engineer_code IS NOT NULL
   AND ('\${site}' = '__all' OR w.site_code = '\${site}')
   AND ('\${customer}' = '__all' OR w.customer_code = '\${customer}')
   AND ('\${engineer}' = '__all' OR w.engineer_code = '\${engineer}')
 GROUP BY w.engineer_code
 ORDER BY value DESC, engineer`,
            { width: 24, description: 'Current load: assigned orders not yet completed or cancelled.' },
          ),
        ],
      },
    ],
  });
}
