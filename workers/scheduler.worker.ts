// The scheduler worker: a thin shell exposing the scheduler service, with the engines and the static embedder.
import { createStaticEmbedder } from '../src/embed/static';
import { createEngine } from '../src/engine/create';
import { exposeService } from '../src/rpc/server';
import { createSchedulerService, type SchedulerService } from '../src/scheduler/service';

exposeService<SchedulerService>(createSchedulerService({ createEngine, createEmbedder: createStaticEmbedder }));
