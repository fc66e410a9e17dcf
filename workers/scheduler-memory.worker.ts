// The memory-only scheduler worker (the drop-in's dist/memory/ folder): the same
// service with no engine code and no tokenizer in its bundle, so the folder
// carries neither ONNX Runtime, WebLLM nor transformers.js. loadEngine rejects
// with a typed error saying so, and an embedder's load fails the same way
// (memory goes on lexically).
import { embedderUnavailable } from '../src/scheduler/embedder-slot';
import { engineUnavailable } from '../src/scheduler/engine-slot';
import { exposeService } from '../src/rpc/server';
import { createSchedulerService, type SchedulerService } from '../src/scheduler/service';

exposeService<SchedulerService>(createSchedulerService({ createEngine: engineUnavailable, createEmbedder: embedderUnavailable }));
