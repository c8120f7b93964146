/**
 * Node-RED settings for the peer benchmark (bench/peer.ts): runtime only, loopback only, no editor,
 * no admin/HTTP-in endpoints, no diagnostics or telemetry, in-memory context, no credentials file
 * encryption (the flow has no credentials). Started as:
 *   node node_modules/node-red/red.js -s settings.js -u <temp dir> -p <free port> flows.json
 * (bench/peer.ts copies flows.json into the temp user dir first).
 */
/* global module, process */
module.exports = {
  uiHost: '127.0.0.1',
  httpAdminRoot: false,
  httpNodeRoot: false,
  disableEditor: true,
  credentialSecret: false,
  flowFilePretty: false,
  diagnostics: { enabled: false, ui: false },
  runtimeState: { enabled: false, ui: false },
  telemetry: { enabled: false, updateNotification: false },
  contextStorage: { default: { module: 'memory' } },
  functionExternalModules: false,
  externalModules: { autoInstall: false, palette: { allowInstall: false }, modules: { allowInstall: false } },
  editorTheme: { projects: { enabled: false } },
  logging: { console: { level: process.env.PEER_NODERED_LOG_LEVEL || 'info', metrics: false, audit: false } },
};
