/** The registry admin endpoint on a real Express app over loopback HTTP. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'net';
import type { Server } from 'http';
import express from 'express';
import type { RequestHandler } from 'express';
import { serveRegistry, registryFromSettings } from '../../nodes/shared/registry-endpoint';
import { GOOD_MODEL, tempRegistry } from './registry-fixtures';

async function withAdmin(
  settings: object,
  run: (base: string, permissions: string[], warnings: string[]) => Promise<void>,
): Promise<void> {
  const app = express();
  const permissions: string[] = [];
  const warnings: string[] = [];
  const RED = {
    httpAdmin: app,
    auth: {
      needsPermission(p: string): RequestHandler {
        return (_req, _res, next) => {
          permissions.push(p);
          next();
        };
      },
    },
    settings,
    log: { warn: (m: string) => void warnings.push(m) },
  };
  serveRegistry(RED, registryFromSettings(RED));
  serveRegistry(RED, registryFromSettings(RED)); // a second node type registering again adds nothing
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  try {
    const { port } = server.address() as AddressInfo;
    await run(`http://127.0.0.1:${port}/rtu/registry`, permissions, warnings);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

test('the admin endpoint lists models, serves one model and one profile, and reloads user folders', async () => {
  const own = tempRegistry({ 'acme/pm-1.yaml': GOOD_MODEL, 'acme/bad.yaml': 'manufacturer: [' });
  try {
    await withAdmin({ userDir: own.dir, rtuMeterRegistryDirs: ['.'] }, async (base, permissions, warnings) => {
      const list = (await (await fetch(`${base}/models`)).json()) as {
        manufacturers: { manufacturer: string; models: { id: string; user: boolean }[] }[];
        errors: string[];
      };
      const acme = list.manufacturers.find((m) => m.manufacturer === 'Acme');
      assert.deepEqual(acme?.models.map((m) => [m.id, m.user]), [['acme/pm-1', true]]);
      assert.ok(list.manufacturers.some((m) => m.manufacturer === 'Eastron'));
      assert.equal(list.errors.length, 1);
      assert.match(list.errors[0], /bad\.yaml:\d+: YAML syntax/);
      assert.ok(warnings.some((w) => /bad\.yaml/.test(w)), 'load errors go to the log');

      const model = (await (await fetch(`${base}/models/eastron/sdm630`)).json()) as {
        model: string; defaults: { plan: { maxRegisters: number } }; profiles: Record<string, { points: { name: string; address: number }[] }>;
        file?: string;
      };
      assert.equal(model.model, 'SDM630-Modbus');
      assert.equal(model.defaults.plan.maxRegisters, 80);
      assert.equal(model.profiles.basic_power.points[0].address, 0);
      assert.equal(model.file, undefined, 'server paths stay on the server');

      const profile = (await (await fetch(`${base}/models/acme/pm-1/profiles/full_power`)).json()) as { points: { name: string }[] };
      assert.deepEqual(profile.points.map((p) => p.name), ['voltage_l1_n', 'current_l1', 'active_power_total']);

      const missing = await fetch(`${base}/models/acme/pm-1/profiles/nope`);
      assert.equal(missing.status, 404);
      assert.match(((await missing.json()) as { error: string }).error, /known profiles: basic_power, full_power, energy/);
      assert.equal((await fetch(`${base}/models/acme/nope`)).status, 404);

      const fs = await import('fs');
      const path = await import('path');
      fs.writeFileSync(path.join(own.dir, 'acme', 'bad.yaml'), GOOD_MODEL.replace('model: PM-1', 'model: PM-2'));
      const reloaded = (await (await fetch(`${base}/reload`, { method: 'POST' })).json()) as { errors: string[] };
      assert.deepEqual(reloaded.errors, []);
      const after = (await (await fetch(`${base}/models/acme/bad`)).json()) as { model: string };
      assert.equal(after.model, 'PM-2');

      assert.ok(permissions.includes('rtu-registry.read'));
      assert.ok(permissions.includes('rtu-registry.write'));
    });
  } finally {
    own.remove();
  }
});
