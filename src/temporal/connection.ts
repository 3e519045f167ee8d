import { Client } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';

/**
 * Connection settings for Temporal. `@temporalio/envconfig` reads the conventional variables
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS, TEMPORAL_TLS_CLIENT_CERT_PATH /
 * _KEY_PATH / _DATA, TEMPORAL_PROFILE) and an optional temporal.toml, so a self-hosted cluster with mTLS
 * or Temporal Cloud with an API key needs no code change. `address` wins when given explicitly.
 */
export function temporalConnectionOptions(address: string): NativeConnectionOptions {
  const { connectionOptions } = loadClientConnectConfig();
  return { ...connectionOptions, address };
}

/**
 * A client on the SDK's native (Rust) connection: gRPC framing and protobuf encoding leave the
 * JavaScript event loop, which on the authorization path costs the API about a millisecond of CPU
 * less per call than `@temporalio/client`'s own `Connection` (bench:auth, README).
 */
export async function connectClient(address: string, namespace: string): Promise<Client> {
  const connection = await NativeConnection.connect(temporalConnectionOptions(address));
  return new Client({ connection, namespace });
}
