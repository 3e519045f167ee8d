import { loadConfig } from './config';

const base = {
  DATABASE_URL: 'postgres://x@127.0.0.1/db',
  TEMPORAL_ADDRESS: '127.0.0.1:7233',
  VAULT_KEY: 'k',
};

describe('metrics settings', () => {
  it('leave /metrics open and the worker health server off when unset (or empty, as compose passes it)', () => {
    expect(loadConfig(base)).toMatchObject({ metricsToken: undefined, workerHealthBind: undefined });
    expect(loadConfig({ ...base, METRICS_TOKEN: '' }).metricsToken).toBeUndefined();
  });

  it('take a token of at least 16 characters and a host:port bind', () => {
    const c = loadConfig({
      ...base,
      METRICS_TOKEN: 'a-long-enough-token',
      WORKER_HEALTH_BIND: '0.0.0.0:9464',
    });
    expect(c).toMatchObject({ metricsToken: 'a-long-enough-token', workerHealthBind: '0.0.0.0:9464' });
    expect(() => loadConfig({ ...base, METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN: at least 16/);
    expect(() => loadConfig({ ...base, WORKER_HEALTH_BIND: '9464' })).toThrow(
      /WORKER_HEALTH_BIND: host:port/,
    );
  });
});
