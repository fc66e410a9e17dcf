// The memory-only scheduler worker (the drop-in's dist/memory/ folder): the same
// service with no engine code in its bundle, so the folder carries neither
// ONNX Runtime nor WebLLM. loadEngine rejects with a typed error saying so.
import { engineUnavailable } from '../src/scheduler/engine-slot';
import { exposeService } from '../src/rpc/server';
import { createSchedulerService, type SchedulerService } from '../src/scheduler/service';

exposeService<SchedulerService>(createSchedulerService({ createEngine: engineUnavailable }));
