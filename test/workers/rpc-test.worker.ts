// Test-only worker: the RPC test service behind the real worker boundary.
import { exposeService } from '../../src/rpc/server';
import { createTestService, type TestService } from './test-service';

exposeService<TestService>(createTestService());
