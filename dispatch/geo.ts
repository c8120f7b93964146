/** Distances and travel time (pure). Haversine great-circle distance; routing can replace travelMinutes later. */

export interface LatLon {
  lat: number;
  lon: number;
}

const EARTH_RADIUS_KM = 6371.0088;
const rad = (d: number): number => (d * Math.PI) / 180;

export function haversineKm(a: LatLon, b: LatLon): number {
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

export interface TravelModel {
  /** Average road speed. */
  speedKmh: number;
  /** Road distance ≈ great-circle distance × this factor (detours). */
  detourFactor: number;
}

export const DEFAULT_TRAVEL: TravelModel = Object.freeze({ speedKmh: 40, detourFactor: 1.3 });

/** Estimated road km and minutes between two points. */
export function travel(a: LatLon, b: LatLon, model: TravelModel = DEFAULT_TRAVEL): { km: number; minutes: number } {
  const km = haversineKm(a, b) * model.detourFactor;
  return { km, minutes: (km / model.speedKmh) * 60 };
}

export const isLatLon = (p: Partial<LatLon> | null | undefined): p is LatLon =>
  !!p && typeof p.lat === 'number' && typeof p.lon === 'number' && Number.isFinite(p.lat) && Number.isFinite(p.lon) && Math.abs(p.lat) <= 90 && Math.abs(p.lon) <= 180;
