import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.js';
import { advertisedHost, workerHostIdentity } from './host-identity.js';

describe('host identity', () => {
  it.each([
    { bind: '10.0.0.5', advertise: '', want: '10.0.0.5' },
    { bind: '10.0.0.5', advertise: 'w1.example.org', want: 'w1.example.org' },
    { bind: '0.0.0.0', advertise: '', want: hostname() },
    { bind: '::', advertise: '', want: hostname() },
    { bind: '0.0.0.0', advertise: 'w1.example.org', want: 'w1.example.org' },
  ])('bound to $bind, advertise "$advertise": clients are told $want', (c) => {
    expect(advertisedHost(c.bind, c.advertise)).toBe(c.want);
  });

  it.each([
    {
      name: 'defaults: everything on 127.0.0.1',
      set: {},
      want: { bind: '127.0.0.1', httpBind: '127.0.0.1', advertise: '127.0.0.1' },
    },
    {
      name: 'worker.host alone (older configurations) listens and advertises there',
      set: { 'worker.host': '10.1.2.3' },
      want: { bind: '10.1.2.3', httpBind: '10.1.2.3', advertise: '10.1.2.3' },
    },
    {
      name: 'bind on every interface, advertise a routable name, HTTP on loopback only',
      set: {
        'worker.bind': '0.0.0.0',
        'worker.advertise': 'w7.example.org',
        'worker.httpBind': '127.0.0.1',
      },
      want: { bind: '0.0.0.0', httpBind: '127.0.0.1', advertise: 'w7.example.org' },
    },
    {
      name: 'worker.bind wins over worker.host',
      set: { 'worker.host': '10.1.2.3', 'worker.bind': '10.9.9.9' },
      want: { bind: '10.9.9.9', httpBind: '10.9.9.9', advertise: '10.9.9.9' },
    },
    {
      name: 'a wildcard without advertise falls back to the hostname',
      set: { 'worker.bind': '::' },
      want: { bind: '::', httpBind: '::', advertise: hostname() },
    },
  ])('$name', ({ set, want }) => {
    expect(workerHostIdentity(loadConfig({ overrides: set }))).toEqual(want);
  });
});
