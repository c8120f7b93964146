/**
 * A simulated PLC: a real node-opcua server exposing Objects/<asset>/<metric> Double variables with
 * stable nodeIds `ns=<own>;s=<asset>.<metric>`. Used by the integration tests (and for trying the
 * OPC-UA ingest by hand). Certificates live under `pkiDir`, never in $HOME.
 */
import { join } from 'node:path';
import { DataType, OPCUACertificateManager, OPCUAServer, StatusCodes, Variant, type UAVariable } from 'node-opcua';

export interface OpcUaSimulator {
  port: number;
  url: string;
  nodeId(asset: string, metric: string): string;
  set(asset: string, metric: string, value: number): void;
  stop(): Promise<void>;
}

export async function startOpcUaSimulator(opts: { port: number; pkiDir: string; points: { asset: string; metric: string }[] }): Promise<OpcUaSimulator> {
  const server = new OPCUAServer({
    port: opts.port,
    serverCertificateManager: new OPCUACertificateManager({ rootFolder: join(opts.pkiDir, 'server'), automaticallyAcceptUnknownCertificate: true, disableFileWatchers: true }),
    userCertificateManager: new OPCUACertificateManager({ rootFolder: join(opts.pkiDir, 'server-users'), disableFileWatchers: true }),
  });
  await server.initialize();
  const addressSpace = server.engine.addressSpace!;
  const ns = addressSpace.getOwnNamespace();
  const vars = new Map<string, UAVariable>();
  const objects = new Map<string, ReturnType<typeof ns.addObject>>();
  for (const { asset, metric } of opts.points) {
    let folder = objects.get(asset);
    if (!folder) {
      folder = ns.addObject({ organizedBy: addressSpace.rootFolder.objects, browseName: asset });
      objects.set(asset, folder);
    }
    vars.set(
      `${asset}.${metric}`,
      ns.addVariable({
        componentOf: folder,
        browseName: metric,
        nodeId: `s=${asset}.${metric}`,
        dataType: 'Double',
        minimumSamplingInterval: 50,
        value: new Variant({ dataType: DataType.Double, value: 0 }),
      }),
    );
  }
  await server.start();
  return {
    port: opts.port,
    url: `opc.tcp://127.0.0.1:${opts.port}`,
    nodeId: (asset, metric) => `ns=${ns.index};s=${asset}.${metric}`,
    set(asset, metric, value) {
      const v = vars.get(`${asset}.${metric}`);
      if (!v) throw new Error(`no variable ${asset}.${metric}`);
      v.setValueFromSource(new Variant({ dataType: DataType.Double, value }), StatusCodes.Good, new Date());
    },
    stop: () => server.shutdown(0),
  };
}
