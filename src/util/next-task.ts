/**
 * Resolves on a later task. A model call on WASM settles through microtasks
 * only, which would starve a worker's incoming messages (an interrupt, a
 * cancel, a send) for a whole prewarm or batch. A MessageChannel task is not
 * clamped as nested timers are.
 */
export function nextTask(): Promise<void> {
  if (typeof MessageChannel === 'undefined') return new Promise((resolve) => setTimeout(resolve, 0));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      channel.port2.close();
      resolve();
    };
    channel.port2.postMessage(undefined);
  });
}
