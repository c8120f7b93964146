import { describe, expect, it } from 'vitest';
import { hashSecret, mayPublish, maySubscribe, newSecret, verifySecret, type DeviceScope } from '../../ingest/device-auth.ts';

const device: DeviceScope = { credentialId: 'c1', username: 'dev-1', site: 'S1', asset: 'A1' };
const gateway: DeviceScope = { credentialId: 'c2', username: 'gw-1', site: 'S1', asset: undefined };

describe('device ACL', () => {
  it.each([
    [device, 'plant/S1/A1/telemetry', true],
    [device, 'plant/S1/A1/alarm', true],
    [device, 'plant/S1/A1/status', true],
    [device, 'plant/S1/A2/telemetry', false],
    [device, 'plant/S2/A1/telemetry', false],
    [device, 'plant/S1/A1/cmd', false],
    [device, 'plant/S1/A1/telemetry/x', false],
    [device, 'other/S1/A1/telemetry', false],
    [gateway, 'plant/S1/A9/telemetry', true],
    [gateway, 'plant/S2/A9/telemetry', false],
  ])('%o may publish %s: %s', (scope, topic, ok) => {
    expect(mayPublish(scope, topic).ok).toBe(ok);
  });

  it.each([
    [device, 'plant/S1/A1/cmd', true],
    [device, 'plant/S1/A1/#', true],
    [device, 'plant/S1/+/telemetry', false],
    [device, 'plant/#', false],
    [device, '#', false],
    [gateway, 'plant/S1/+/cmd', true],
    [gateway, 'plant/S2/+/cmd', false],
  ])('%o may subscribe %s: %s', (scope, filter, ok) => {
    expect(maySubscribe(scope, filter)).toBe(ok);
  });
});

describe('secrets', () => {
  it('hashes with a random salt and verifies only the right secret', async () => {
    const secret = newSecret();
    expect(secret.length).toBeGreaterThanOrEqual(32);
    const [h1, h2] = await Promise.all([hashSecret(secret), hashSecret(secret)]);
    expect(h1).not.toBe(h2);
    expect(await verifySecret(secret, h1)).toBe(true);
    expect(await verifySecret(`${secret}x`, h1)).toBe(false);
    expect(await verifySecret(secret, 'plain-text')).toBe(false);
  });
});
