// The scheduler worker: a thin shell exposing the scheduler service.
import { exposeService } from '../src/rpc/server';
import { createSchedulerService, type SchedulerService } from '../src/scheduler/service';

exposeService<SchedulerService>(createSchedulerService());
