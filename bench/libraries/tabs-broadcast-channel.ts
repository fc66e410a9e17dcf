// The same two jobs with the `broadcast-channel` package (leader election and a
// channel), for the measurement in bench/libraries.mjs only.
export { BroadcastChannel, createLeaderElection } from 'broadcast-channel';
