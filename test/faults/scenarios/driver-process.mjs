// A driver in a process of its own, for the app-expiry scenario: the scenario kills it with
// SIGKILL, so its app stops heartbeating without ever unregistering. Prints one JSON line
// with the driver's address once shuffle 0 is registered, then serves until killed.
// argv: manager appId maps partitions maxPartitionsPerGroup
import { setInterval } from 'node:timers';
import { ShuffleDriver } from '../../../dist/client/index.js';

const [manager, appId, maps, partitions, perGroup] = process.argv.slice(2);
const driver = await ShuffleDriver.start({ manager, appId });
const handle = await driver.registerShuffle({
  shuffleId: 0,
  numMappers: Number(maps),
  numPartitions: Number(partitions),
  maxPartitionsPerGroup: Number(perGroup),
});
console.log(JSON.stringify({ driverAddress: handle.driverAddress }));
setInterval(() => undefined, 1 << 30);
