/**
 * The stand-in DigitalOcean provider's process: Terraform starts it as it starts any provider
 * (go-plugin: a handshake line on stdout, then gRPC over a Unix socket with mutual TLS), and it
 * answers tfplugin5 calls with the schema from the bindings and the semantics in standin.ts. No
 * cloud is called: created objects get addresses from documentation ranges and live only in state.
 *
 * Environment (set by the harness): XMPP_STANDIN_SCHEMA (the generated schema, JSON),
 * XMPP_STANDIN_TLS (directory holding server.pem and server.key). Terraform sets PLUGIN_CLIENT_CERT
 * and the magic cookie.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { X509Certificate } from 'crypto';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { decodeMsgpack, encodeMsgpack, Value } from './cty';
import { ProviderSchema } from './provider-schema';
import { Diagnostic, ProviderStandIn } from './standin';
import { toProtocolSchema } from './protocol-schema';

/** go-plugin's handshake: Terraform refuses a plugin that was not started with this cookie. */
export const MAGIC_COOKIE_KEY = 'TF_PLUGIN_MAGIC_COOKIE';
export const MAGIC_COOKIE_VALUE = 'd602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2';

type Callback = (error: grpc.ServiceError | null, response?: unknown) => void;
type Call = { request: any };

function dynamic(value: Value): { msgpack: Uint8Array } {
  return { msgpack: encodeMsgpack(value) };
}

function fromDynamic(value: { msgpack?: Uint8Array; json?: Uint8Array } | null | undefined): Value {
  if (!value) return null;
  if (value.msgpack && value.msgpack.length > 0) return decodeMsgpack(value.msgpack);
  if (value.json && value.json.length > 0) return JSON.parse(Buffer.from(value.json).toString('utf8')) as Value;
  return null;
}

function protocolDiagnostics(diagnostics: readonly Diagnostic[]) {
  return diagnostics.map((d) => ({
    severity: d.severity === 'error' ? 'ERROR' : 'WARNING',
    summary: d.summary,
    detail: d.detail ?? '',
    attribute: d.path ? { steps: d.path.map((step) => (typeof step === 'number' ? { element_key_int: step } : { attribute_name: step })) } : undefined,
  }));
}

function loadProtocols() {
  const options = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true };
  const files = ['tfplugin5.proto', 'go-plugin.proto', 'health.proto'].map((f) => join(__dirname, f));
  return grpc.loadPackageDefinition(protoLoader.loadSync(files, options)) as any;
}

export function serve(schema: ProviderSchema, tlsDirectory: string): void {
  const standIn = new ProviderStandIn(schema);
  const protocols = loadProtocols();
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 256 * 1024 * 1024, 'grpc.max_send_message_length': 256 * 1024 * 1024 });
  const handle = <T>(work: (request: any) => T) => (call: Call, callback: Callback) => {
    try {
      callback(null, work(call.request));
    } catch (error) {
      callback({ code: grpc.status.INTERNAL, details: String((error as Error).stack ?? error) } as grpc.ServiceError);
    }
  };
  const protocolSchema = toProtocolSchema(schema);
  server.addService(protocols.tfplugin5.Provider.service, {
    GetSchema: handle(() => protocolSchema),
    PrepareProviderConfig: handle((r) => ({ prepared_config: dynamic(fromDynamic(r.config)), diagnostics: [] })),
    ValidateResourceTypeConfig: handle((r) => ({ diagnostics: protocolDiagnostics(standIn.validateResource(r.type_name, fromDynamic(r.config))) })),
    ValidateDataSourceConfig: handle(() => ({ diagnostics: [] })),
    UpgradeResourceState: handle((r) => {
      const raw = r.raw_state?.json?.length ? (JSON.parse(Buffer.from(r.raw_state.json).toString('utf8')) as Value) : null;
      const result = standIn.upgradeState(r.type_name, raw);
      return { upgraded_state: dynamic(result.state), diagnostics: protocolDiagnostics(result.diagnostics) };
    }),
    Configure: handle((r) => ({ diagnostics: protocolDiagnostics(standIn.configure(fromDynamic(r.config), process.env)) })),
    ReadResource: handle((r) => {
      const result = standIn.readResource(r.type_name, fromDynamic(r.current_state));
      return { new_state: dynamic(result.state), private: r.private, diagnostics: protocolDiagnostics(result.diagnostics) };
    }),
    PlanResourceChange: handle((r) => {
      const plan = standIn.planChange(r.type_name, fromDynamic(r.prior_state), fromDynamic(r.proposed_new_state), fromDynamic(r.config));
      return {
        planned_state: dynamic(plan.planned),
        requires_replace: plan.requiresReplace.map((path) => ({ steps: path.map((name) => ({ attribute_name: name })) })),
        planned_private: r.prior_private,
        diagnostics: protocolDiagnostics(plan.diagnostics),
        legacy_type_system: true,
      };
    }),
    ApplyResourceChange: handle((r) => {
      const result = standIn.applyChange(r.type_name, fromDynamic(r.prior_state), fromDynamic(r.planned_state), fromDynamic(r.config));
      return { new_state: dynamic(result.state), private: r.planned_private, diagnostics: protocolDiagnostics(result.diagnostics), legacy_type_system: true };
    }),
    ImportResourceState: handle((r) => ({
      imported_resources: [],
      diagnostics: protocolDiagnostics([{ severity: 'error', summary: `The stand-in provider cannot import ${r.type_name} ${r.id}: it has no cloud to read it from` }]),
    })),
    ReadDataSource: handle((r) => {
      const result = standIn.readDataSource(r.type_name, fromDynamic(r.config));
      return { state: dynamic(result.state), diagnostics: protocolDiagnostics(result.diagnostics) };
    }),
    Stop: handle(() => ({ Error: '' })),
  });
  server.addService(protocols.plugin.GRPCController.service, {
    Shutdown: (_call: Call, callback: Callback) => {
      callback(null, {});
      setImmediate(() => server.tryShutdown(() => process.exit(0)));
    },
  });
  server.addService(protocols.grpc.health.v1.Health.service, {
    Check: (_call: Call, callback: Callback) => callback(null, { status: 'SERVING' }),
  });

  // Mutual TLS as go-plugin's AutoMTLS expects it: Terraform's certificate arrives in
  // PLUGIN_CLIENT_CERT and is the only one trusted; ours goes back in the handshake line.
  const clientCertificate = process.env.PLUGIN_CLIENT_CERT;
  const serverCertificate = readFileSync(join(tlsDirectory, 'server.pem'));
  const credentials = clientCertificate
    ? grpc.ServerCredentials.createSsl(Buffer.from(clientCertificate), [{ cert_chain: serverCertificate, private_key: readFileSync(join(tlsDirectory, 'server.key')) }], true)
    : grpc.ServerCredentials.createInsecure();
  const socketDir = mkdtempSync(join(process.env.PLUGIN_UNIX_SOCKET_DIR ?? tmpdir(), 'standin-'));
  const socket = join(socketDir, 'plugin.sock');
  process.on('exit', () => rmSync(socketDir, { recursive: true, force: true }));
  server.bindAsync(`unix://${socket}`, credentials, (error) => {
    if (error) {
      process.stderr.write(`stand-in provider: cannot listen on ${socket}: ${error.message}\n`);
      process.exit(1);
    }
    const der = new X509Certificate(serverCertificate).raw.toString('base64').replace(/=+$/, '');
    // core protocol | app protocol | network | address | protocol | server certificate
    process.stdout.write(`1|5|unix|${socket}|grpc|${clientCertificate ? der : ''}\n`);
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
  // Terraform ends its providers when it exits; one that was killed cannot, so follow it.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.exit(0);
  }, 1000).unref();
}

if (require.main === module) {
  if (process.env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
    process.stderr.write('This is a Terraform provider plugin (a stand-in for DigitalOcean\'s, for tests); Terraform starts it.\n');
    process.exit(1);
  }
  const schemaFile = process.env.XMPP_STANDIN_SCHEMA;
  const tls = process.env.XMPP_STANDIN_TLS;
  if (!schemaFile || !tls) {
    process.stderr.write('stand-in provider: XMPP_STANDIN_SCHEMA and XMPP_STANDIN_TLS must be set (the test harness sets them)\n');
    process.exit(1);
  }
  serve(JSON.parse(readFileSync(schemaFile, 'utf8')) as ProviderSchema, tls);
}
