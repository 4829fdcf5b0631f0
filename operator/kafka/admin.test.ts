import { describe, expect, it } from 'vitest';
import { AdminConnectError, errorName, KafkaApiError, parseHostPort } from './admin.js';

describe('parseHostPort', () => {
  it('reads host:port, bracketed IPv6 and DNS names', () => {
    expect(parseHostPort('127.0.0.1:9092')).toEqual({ host: '127.0.0.1', port: 9092 });
    expect(parseHostPort('[::1]:9093')).toEqual({ host: '::1', port: 9093 });
    expect(parseHostPort('events-bootstrap.streaming.svc.cluster.local:9092')).toEqual({ host: 'events-bootstrap.streaming.svc.cluster.local', port: 9092 });
  });

  it('refuses an address without a usable port or host, naming it', () => {
    for (const bad of ['broker', 'broker:0', 'broker:65536', ':9092', 'broker:port']) {
      expect(() => parseHostPort(bad), bad).toThrow(AdminConnectError);
      expect(() => parseHostPort(bad), bad).toThrow(`'${bad}'`);
    }
  });
});

describe('KafkaApiError', () => {
  it('names the error code, the API and the resource, with the broker\'s message', () => {
    const e = new KafkaApiError('CreateTopics', 'topic orders', 40, "invalid value 'x' for retention.ms", '127.0.0.1:9092');
    expect(e.errorName).toBe('INVALID_CONFIG');
    expect(e.code).toBe('STRATA_KAFKA_ERROR');
    expect(e.message).toBe("CreateTopics topic orders: INVALID_CONFIG: invalid value 'x' for retention.ms");
    expect(new KafkaApiError('Metadata', 'topic a', 3, null, 'b:1').message).toBe('Metadata topic a: UNKNOWN_TOPIC_OR_PARTITION');
    expect(errorName(29999)).toBe('ERROR_29999');
  });
});
