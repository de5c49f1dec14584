import { describe, it, expect } from 'vitest';
import {
  DEFAULT_POLICY,
  getPolicy,
  loadAware,
  POLICIES,
  roundRobin,
  type AllocationPolicyName,
} from './index.js';

describe('policy registry', () => {
  it.each([
    { name: 'load-aware', policy: loadAware },
    { name: 'round-robin', policy: roundRobin },
  ] as const)('getPolicy($name) is the $name policy', ({ name, policy }) => {
    expect(getPolicy(name)).toBe(policy);
    expect(POLICIES[name]).toBe(policy);
  });

  it('lists exactly the two policies and defaults to load-aware (docs/architecture.md#cluster-manager)', () => {
    expect(Object.keys(POLICIES).sort()).toEqual(['load-aware', 'round-robin']);
    expect(DEFAULT_POLICY).toBe('load-aware');
  });

  it.each(['random', 'toString', '__proto__'])('rejects the unknown name %j', (name) => {
    expect(() => getPolicy(name as AllocationPolicyName)).toThrow(
      expect.objectContaining({ code: 'SLUICE_ERR_INVALID_ARGUMENT', field: 'allocationPolicy' }),
    );
  });
});
