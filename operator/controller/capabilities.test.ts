import { describe, expect, it } from 'vitest';
import { capabilitiesOf } from './capabilities.js';

describe('capabilitiesOf', () => {
  it('finds nothing when monitoring.coreos.com/v1 is not served', () => {
    expect(capabilitiesOf(undefined)).toEqual({ serviceMonitor: false, podMonitor: false, prometheusRule: false });
  });

  it('reports each kind the group version serves, ignoring subresources', () => {
    const resources = [
      { name: 'servicemonitors', kind: 'ServiceMonitor' },
      { name: 'servicemonitors/status', kind: 'ServiceMonitor' },
      { name: 'prometheusrules/status', kind: 'PrometheusRule' },
      { name: 'podmonitors', kind: 'PodMonitor' },
    ];
    expect(capabilitiesOf(resources)).toEqual({ serviceMonitor: true, podMonitor: true, prometheusRule: false });
  });
});
