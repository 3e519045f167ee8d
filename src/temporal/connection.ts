import { Connection, Client } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';

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

export async function connectClient(address: string, namespace: string): Promise<Client> {
  const connection = await Connection.connect(temporalConnectionOptions(address));
  return new Client({ connection, namespace });
}
