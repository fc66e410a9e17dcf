// The page side of the scheduler worker: typed calls, with timeouts and
// cancellation from src/rpc. Nothing is ranked on the main thread.
import { createRpcClient, type RpcClient } from '../rpc/client';
import type { SchedulerService } from './service';

export type SchedulerClient = RpcClient<SchedulerService>;

/** Starts the scheduler in its own worker. Call `open` first. */
export function createSchedulerWorker(options: { timeoutMs?: number } = {}): SchedulerClient {
  const worker = new Worker(new URL('../../workers/scheduler.worker.ts', import.meta.url), { type: 'module', name: 'mneme-scheduler' });
  return createRpcClient<SchedulerService>(worker, { name: 'scheduler', timeoutMs: options.timeoutMs ?? 60_000 });
}
