/** zferry's framed, multiplexed RPC: contracts, server, network client, LocalRPC, errors. */
export { endpoint, defineContract, wireEndpointName } from './contract.js';
export type {
  Validator,
  StreamSide,
  EndpointDef,
  EndpointMap,
  Contract,
  CallContext,
  CallOptions,
  StreamResponse,
  Implementation,
  Client,
  HandlerOf,
  ClientMethodOf,
  RequestOf,
  ResponseOf,
} from './contract.js';
export { RpcServer } from './server.js';
export type { RpcServerOptions } from './server.js';
export { connect } from './client.js';
export type { ConnectOptions, ConnectedClient } from './client.js';
export { RpcConnection } from './connection.js';
export type { ConnectionOptions, ConnectionStats, RpcConnectionInit } from './connection.js';
export { localClient } from './local.js';
export { deferredClient } from './deferred-client.js';
export type { LocalClient, LocalClientOptions } from './local.js';
export { DEFAULT_LIMITS, DEFAULT_MAX_REQUEST_BYTES, DEFAULT_SERVER_MESSAGE_BUDGET, resolveLimits } from './limits.js';
export type { RpcLimits } from './limits.js';
export {
  RpcError,
  RpcProtocolError,
  RpcConnectionLostError,
  RpcCancelledError,
  RpcDeadlineError,
  RpcUnknownEndpointError,
  RpcInvalidRequestError,
  RpcInvalidResponseError,
  RpcRemoteError,
  RpcStreamSourceError,
  RpcGoawayError,
  RpcRequestTooLargeError,
  RpcResourceExhaustedError,
} from './errors.js';
export type { RpcErrorCode } from './errors.js';
export { PROTOCOL_NAME, PROTOCOL_VERSION } from './frame.js';
export type { PeerIdentity, TransportConnection } from '../transport/types.js';
