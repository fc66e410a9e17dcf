// The shipped tab coordination, as the measurement's entry (bench/libraries.mjs):
// leader election on a Web Lock (ownership.ts) and store change messages on a BroadcastChannel (tab-sync.ts).
export { claimOwnership, tryOwnership } from '../../src/scheduler/ownership';
export { syncTabs } from '../../src/store/tab-sync';
