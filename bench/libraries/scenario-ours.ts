// The shipped scenario parser, as the measurement's entry (bench/libraries.mjs).
export { parseScenario as parse } from '../../src/scenario/format';
