/**
 * Seeds the demo: one site, the simulated pumps (codes follow type-brand-model-serial), an engineer,
 * and two rules for every pump: over-temperature (threshold with hold + hysteresis) and a 500 run-hour PM.
 * Idempotent: safe to run at every start.
 */
import type { Db } from '../platform/db/database.ts';
import type { SimulatedMachine } from './fleet.ts';

export const DEMO_SITE = 'plant-1';
export const DEMO_GATEWAY = 'gw-plant-1-simulator';

/** Three engineers around Shanghai with different skills (no roster = always available). */
const DEMO_ENGINEERS = [
  { code: 'ENG-001', name: 'Li Wei', home: [31.2304, 121.4737], rate: 180, skills: [{ skill: 'pump', level: 4 }, { skill: 'electrical', level: 3 }] },
  { code: 'ENG-002', name: 'Wang Fang', home: [31.1443, 121.8083], rate: 160, skills: [{ skill: 'pump', level: 2 }, { skill: 'hvac', level: 4 }] },
  { code: 'ENG-003', name: 'Chen Jie', home: [31.3, 121.5], rate: 200, skills: [{ skill: 'electrical', level: 5 }] },
] as const;

const HOT = { schemaVersion: 1, metric: 'temperature', operator: '>', value: 85, holdSeconds: 3, hysteresis: 5, severity: 'major', priority: 'high' };
const PM = { schemaVersion: 1, metric: 'runHours', every: 500, startAt: 0, priority: 'medium', title: 'Replace filter and check seals (500 h)' };

/** Returns the site's id (the simulator's gateway credential is issued for it). */
export async function seedDemo(prisma: Db, machines: SimulatedMachine[]): Promise<{ siteId: string }> {
  const site = await prisma.site.upsert({
    where: { code: DEMO_SITE },
    create: { code: DEMO_SITE, name: 'Demo plant 1', address: 'Loopback Road 1', latitude: 31.2222, longitude: 121.5447 },
    update: {},
  });
  for (const m of machines) {
    const [, brand, model, serial] = m.code.split('-');
    await prisma.asset.upsert({
      where: { code: m.code },
      create: {
        code: m.code,
        name: `Cooling pump ${serial}`,
        type: 'pump',
        brand: brand ?? null,
        model: model ?? null,
        serial: serial ?? null,
        siteId: site.id,
        installDate: new Date('2024-03-01T00:00:00Z'),
        warrantyEnd: new Date('2027-03-01T00:00:00Z'),
        specs: { ratedPowerKw: 15, maxTemperatureC: 90 },
      },
      update: {},
    });
  }
  for (const e of DEMO_ENGINEERS) {
    await prisma.engineer.upsert({
      where: { code: e.code },
      create: { code: e.code, name: e.name, homeLat: e.home[0], homeLon: e.home[1], timezone: 'Asia/Shanghai', hourlyRate: e.rate, skillLevels: { create: [...e.skills] } },
      update: {},
    });
  }
  const existing = new Set((await prisma.rule.findMany({ where: { assetType: 'pump' }, select: { name: true } })).map((r) => r.name));
  if (!existing.has('Pump over-temperature')) {
    await prisma.rule.create({
      data: {
        name: 'Pump over-temperature',
        kind: 'threshold',
        assetType: 'pump',
        definition: HOT,
        versions: { create: { version: 1, name: 'Pump over-temperature', enabled: true, assetType: 'pump', definition: HOT } },
      },
    });
  }
  if (!existing.has('Pump 500 h service')) {
    await prisma.rule.create({
      data: {
        name: 'Pump 500 h service',
        kind: 'usage',
        assetType: 'pump',
        definition: PM,
        versions: { create: { version: 1, name: 'Pump 500 h service', enabled: true, assetType: 'pump', definition: PM } },
      },
    });
  }
  return { siteId: site.id };
}
