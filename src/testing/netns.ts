// Several "hosts" on one machine with real links (docs/development.md#multi-host-tests): one
// network namespace per host, each with a veth pair whose other end is attached to a bridge in
// the root namespace, and an address in a private /24 that exists only inside the namespaces
// (the root namespace gets no address, so nothing outside them can reach the daemons). Each
// host also gets a name (`<host>.sluice.test`) through /etc/netns/<namespace>/hosts, which
// `ip netns exec` mounts over /etc/hosts, so daemons can advertise names, not addresses.
// linkDown() takes a host's cable out of the switch (its bridge-side veth end goes down;
// packets are dropped, nothing is refused), linkUp() plugs it back. Needs root and iproute2.
// close() deletes everything it created; create() first removes what a killed earlier run
// (a dead process id in the names) left behind.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PREFIX = 'sluice-';
const NETNS_ETC = '/etc/netns';

export interface NetnsHost {
  /** The logical name the test gave it (`h1`, `manager`, ...). */
  readonly name: string;
  /** The network namespace. */
  readonly netns: string;
  /** Its address on the bridge. */
  readonly address: string;
  /** `<name>.sluice.test`, resolvable inside every namespace of the lab. */
  readonly hostname: string;
  /** The veth end on the bridge (root namespace): linkDown/linkUp act on it. */
  readonly link: string;
}

async function ip(...args: string[]): Promise<string> {
  try {
    return (await run('ip', args)).stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')}: ${e.stderr?.trim() || e.message}`, { cause: err });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `file args` run inside `netns` (unchanged without one): the process keeps its own pid. */
export function inNetns(
  netns: string | undefined,
  file: string,
  args: readonly string[],
): { file: string; args: string[] } {
  return netns
    ? { file: 'ip', args: ['netns', 'exec', netns, file, ...args] }
    : { file, args: [...args] };
}

/** Why namespaces cannot be made here (not Linux, not root, no iproute2), or undefined. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  const probe = `${PREFIX}probe-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    return `cannot create a network namespace with iproute2's ip: ${e.stderr?.toString().trim() || e.message}`;
  }
  execFileSync('ip', ['netns', 'delete', probe], { stdio: 'pipe' });
  return undefined;
}

/** Namespaces and bridges of earlier runs whose process is gone. */
async function removeLeftovers(): Promise<void> {
  const namespaces = (await ip('netns', 'list')).split('\n').map((l) => l.split(' ')[0]!);
  for (const ns of namespaces) {
    const m = /^sluice-sl([0-9a-z]+)-/.exec(ns);
    if (!m || alive(parseInt(m[1]!, 36))) continue;
    await ip('netns', 'delete', ns).catch(() => undefined);
    rmSync(join(NETNS_ETC, ns), { recursive: true, force: true });
  }
  const bridges = await ip('-o', 'link', 'show', 'type', 'bridge');
  for (const m of bridges.matchAll(/^\d+: (sl([0-9a-z]+)br)[:@]/gm))
    if (!alive(parseInt(m[2]!, 36))) await ip('link', 'delete', m[1]!).catch(() => undefined);
}

export class NetnsLab {
  readonly hosts: readonly NetnsHost[];
  readonly #bridge: string;
  #closed = false;

  private constructor(hosts: NetnsHost[], bridge: string) {
    this.hosts = hosts;
    this.#bridge = bridge;
  }

  /** One namespace per name, all on one bridge, addresses 10.213.<n>.<11..>/24. */
  static async create(names: readonly string[]): Promise<NetnsLab> {
    await removeLeftovers();
    const tag = `sl${process.pid.toString(36)}`; // interface names: 15 characters at most
    const subnet = `10.213.${process.pid % 250}`;
    const hosts = names.map((name, i) => ({
      name,
      netns: `${PREFIX}${tag}-${name}`,
      address: `${subnet}.${11 + i}`,
      hostname: `${name}.sluice.test`,
      link: `${tag}v${i}`,
    }));
    const lab = new NetnsLab(hosts, `${tag}br`);
    try {
      await ip('link', 'add', lab.#bridge, 'type', 'bridge');
      await ip('link', 'set', lab.#bridge, 'up');
      const etcHosts = hosts.map((h) => `${h.address} ${h.hostname}\n`).join('');
      for (const h of hosts) {
        await ip('netns', 'add', h.netns);
        mkdirSync(join(NETNS_ETC, h.netns), { recursive: true });
        writeFileSync(join(NETNS_ETC, h.netns, 'hosts'), `127.0.0.1 localhost\n${etcHosts}`);
        const peer = `${h.link}p`;
        await ip('link', 'add', h.link, 'type', 'veth', 'peer', 'name', peer);
        await ip('link', 'set', peer, 'netns', h.netns);
        await ip('-n', h.netns, 'link', 'set', peer, 'name', 'eth0');
        await ip('-n', h.netns, 'addr', 'add', `${h.address}/24`, 'dev', 'eth0');
        await ip('-n', h.netns, 'link', 'set', 'eth0', 'up');
        await ip('-n', h.netns, 'link', 'set', 'lo', 'up');
        await ip('link', 'set', h.link, 'master', lab.#bridge);
        await ip('link', 'set', h.link, 'up');
      }
    } catch (err) {
      await lab.close();
      throw err;
    }
    return lab;
  }

  host(name: string): NetnsHost {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no host ${name} in this lab`);
    return h;
  }

  /** Unplugs the host: its traffic is dropped both ways until linkUp. */
  async linkDown(name: string): Promise<void> {
    await ip('link', 'set', this.host(name).link, 'down');
  }

  async linkUp(name: string): Promise<void> {
    await ip('link', 'set', this.host(name).link, 'up');
  }

  /** Namespaces, veths, the bridge and the hosts files, whatever exists of them. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const h of this.hosts) {
      // Deleting one end of a veth deletes both (the namespace deletion would too, later).
      await ip('link', 'delete', h.link).catch(() => undefined);
      await ip('netns', 'delete', h.netns).catch(() => undefined);
      rmSync(join(NETNS_ETC, h.netns), { recursive: true, force: true });
    }
    await ip('link', 'delete', this.#bridge).catch(() => undefined);
    try {
      rmdirSync(NETNS_ETC); // only when empty: other namespaces' files stay
    } catch {
      // not empty, or already gone
    }
  }

  /** What of this lab still exists (empty after close): for tests that check the cleanup. */
  async leftovers(): Promise<string[]> {
    const namespaces = await ip('netns', 'list');
    const links = await ip('-o', 'link', 'show');
    return [
      ...this.hosts.filter((h) => namespaces.includes(h.netns)).map((h) => h.netns),
      ...[this.#bridge, ...this.hosts.map((h) => h.link)].filter((l) =>
        new RegExp(`^\\d+: ${l}[:@]`, 'm').test(links),
      ),
    ];
  }
}
