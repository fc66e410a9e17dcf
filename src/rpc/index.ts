export { createRpcClient, type CallOptions, type RpcClient, type RpcClientOptions, type WorkerLike } from './client';
export { exposeService, type ExposeOptions } from './server';
export { asMnemeError } from './error-transfer';
export type { Args, CallContext, EmbedService, EngineService, MethodName, Result, RpcEndpoint, RpcReply, Service, ServiceHandler } from './protocol';
