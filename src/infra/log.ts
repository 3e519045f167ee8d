/** Minimal logger interface the infra module needs; pino loggers satisfy it. */
export interface InfraLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
