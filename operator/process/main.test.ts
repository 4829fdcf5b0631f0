import { describe, expect, it } from 'vitest';
import { LEASE_NAME_DEFAULT, parseOperatorArgs, UsageError } from './main.js';

describe('parseOperatorArgs', () => {
  it('has defaults for a pod: every namespace, :8080, two workers, the image of this version', () => {
    expect(parseOperatorArgs([], '1.2.3')).toEqual({
      kubeconfig: undefined,
      namespace: undefined,
      leaseNamespace: undefined,
      leaseName: LEASE_NAME_DEFAULT,
      http: { host: '', port: 8080 },
      workers: 2,
      settings: { image: 'ghcr.io/strata/strata:1.2.3', clusterDomain: 'cluster.local' },
      logLevel: 'info',
    });
  });

  it('takes every flag', () => {
    const a = parseOperatorArgs(
      ['--namespace', 'streaming', '--lease-namespace', 'strata-system', '--lease-name', 'ops', '--http-listener', '127.0.0.1:0', '--workers', '4', '--image', 'registry.local/strata:dev', '--cluster-domain', 'k8s.example.org', '--log-level', 'debug'],
      '1.2.3',
    );
    expect(a).toMatchObject({ namespace: 'streaming', leaseNamespace: 'strata-system', leaseName: 'ops', http: { host: '127.0.0.1', port: 0 }, workers: 4, settings: { image: 'registry.local/strata:dev', clusterDomain: 'k8s.example.org' }, logLevel: 'debug' });
  });

  it('returns null for --help', () => {
    expect(parseOperatorArgs(['--help'], '1')).toBeNull();
    expect(parseOperatorArgs(['-h'], '1')).toBeNull();
  });

  it('refuses bad values naming the flag', () => {
    const fails = (args: string[]) => {
      try {
        parseOperatorArgs(args, '1');
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        return (e as Error).message;
      }
      throw new Error(`accepted ${args.join(' ')}`);
    };
    expect(fails(['--workers', '0'])).toMatch(/^--workers: '0'/);
    expect(fails(['--workers', '2.5'])).toMatch(/^--workers/);
    expect(fails(['--workers', '65'])).toMatch(/^--workers/);
    expect(fails(['--namespace', 'Not_A_Name'])).toMatch(/^--namespace: 'Not_A_Name'/);
    expect(fails(['--lease-namespace=-x'])).toMatch(/^--lease-namespace: '-x'/);
    expect(fails(['--http-listener', '8080'])).toMatch(/^--http-listener: '8080' is not host:port/);
    expect(fails(['--http-listener', ':70000'])).toMatch(/^--http-listener: .*above 65535/);
    expect(fails(['--cluster-domain', 'bad domain'])).toMatch(/^--cluster-domain/);
    expect(fails(['--log-level', 'loud'])).toMatch(/^--log-level: 'loud'/);
    expect(fails(['--image', ''])).toMatch(/^--image/);
    expect(fails(['--kubeconfig', '/nonexistent/kubeconfig'])).toMatch(/^--kubeconfig: \/nonexistent\/kubeconfig does not exist/);
    expect(fails(['--no-such-flag'])).toMatch(/no-such-flag/);
    expect(fails(['stray'])).toMatch(/stray/);
  });
});
