/**
 * LocalRPC: the client interface of a contract calling its implementation in this process —
 * no framing, no serialization, the very same Readable handed through. Validation,
 * cancellation, deadlines and the error classes match the network client, so callers handle
 * both placements alike. (A byte stream's own error reaches the consumer unchanged here; over
 * the network it arrives as RpcStreamSourceError carrying its message.)
 */
import type { Readable } from 'node:stream';
import { CallScope } from './call-scope.js';
import { buildClient } from './client-proxy.js';
import type { AnyEndpointDef, CallContext, CallOptions, Client, Contract, Implementation } from './contract.js';
import {
  RpcConnectionLostError,
  RpcError,
  RpcInvalidRequestError,
  RpcInvalidResponseError,
  RpcRemoteError,
  RpcStreamSourceError,
  errorCode,
  errorMessage,
} from './errors.js';
import { destroyQuietly, isReadable } from './readable.js';
import type { PeerIdentity } from '../transport/types.js';
import { validate } from './validation.js';

export interface LocalClientOptions {
  /** What handlers see as ctx.peer. Default: { transport: 'local', name: 'local' }. */
  peer?: PeerIdentity;
}

export type LocalClient<C extends Contract> = Client<C> & {
  /** Refuse new calls and wait for the ones in progress (byte streams included). */
  close(): Promise<void>;
  /** Calls in progress: handlers running, response streams not yet closed. */
  readonly activeCallCount: number;
};

const DEFAULT_PEER: PeerIdentity = Object.freeze({ transport: 'local', name: 'local' });

export function localClient<C extends Contract>(contract: C, implementation: Implementation<C>, options: LocalClientOptions = {}): LocalClient<C> {
  const peer = options.peer ?? DEFAULT_PEER;
  const impl = implementation as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const name of Object.keys(contract.endpoints)) {
    if (typeof impl[name] !== 'function') throw new TypeError(`implementation of ${contract.name} lacks endpoint ${name}`);
  }
  const inFlight = new Set<Promise<void>>();
  let closed = false;

  const client = buildClient(contract, (name, def, request, stream, callOptions) => {
    if (closed) {
      destroyQuietly(stream);
      return Promise.reject(new RpcConnectionLostError(`local client of ${contract.name} is closed`));
    }
    const call = new LocalCall(`${contract.name}/${name}`, def, (impl[name] as (...args: unknown[]) => Promise<unknown>).bind(impl), peer);
    const result = call.run(request, stream, callOptions);
    inFlight.add(call.done);
    void call.done.then(() => inFlight.delete(call.done));
    return result;
  });
  return Object.defineProperties(client as LocalClient<C>, {
    close: {
      value: async (): Promise<void> => {
        closed = true;
        while (inFlight.size > 0) await Promise.all([...inFlight]);
      },
    },
    activeCallCount: { get: () => inFlight.size },
  });
}

class LocalCall {
  /** Settles when the call holds nothing any more (handler returned, response stream over). */
  readonly done: Promise<void>;
  readonly #wireName: string;
  readonly #def: AnyEndpointDef;
  readonly #handler: (...args: unknown[]) => Promise<unknown>;
  readonly #peer: PeerIdentity;
  #markDone!: () => void;
  /** Things still running: the handler, and a response stream until it closes. */
  #holds = 1;

  constructor(wireName: string, def: AnyEndpointDef, handler: (...args: unknown[]) => Promise<unknown>, peer: PeerIdentity) {
    this.#wireName = wireName;
    this.#def = def;
    this.#handler = handler;
    this.#peer = peer;
    this.done = new Promise<void>((resolve) => (this.#markDone = resolve));
  }

  async run(request: unknown, stream: Readable | undefined, options: CallOptions | undefined): Promise<unknown> {
    let scope: CallScope | undefined;
    let keepScope = false;
    let handlerStarted = false;
    try {
      scope = this.#scope(options, stream);
      const value = this.#validateRequest(request, stream);
      const controller = new AbortController();
      const ctx: CallContext = { signal: controller.signal, peer: this.#peer, metadata: { ...(options?.metadata ?? {}) } };
      if (scope.deadline !== undefined) ctx.deadline = scope.deadline;

      // The source of a request stream failing is the call's failure, as over the network.
      let sourceError: RpcStreamSourceError | undefined;
      const onSourceError = (error: Error): void => {
        sourceError ??= new RpcStreamSourceError(`request stream failed: ${errorMessage(error)}`, { cause: error });
      };
      stream?.on('error', onSourceError);

      const aborted = new Promise<never>((_, reject) => {
        scope?.onAbort((error) => {
          controller.abort(error);
          reject(error);
        });
      });
      aborted.catch(() => {});
      let result: unknown;
      try {
        handlerStarted = true;
        const pending = Promise.resolve().then(() => (this.#def.stream === 'request' ? this.#handler(value, stream, ctx) : this.#handler(value, ctx)));
        // The call may end first (cancelled); the handler still counts until it returns.
        pending.then(this.#release, this.#release);
        result = await Promise.race([pending.catch((error: unknown) => Promise.reject(sourceError ?? toRemoteError(error))), aborted]);
        if (sourceError !== undefined) throw sourceError;
      } finally {
        stream?.off('error', onSourceError);
      }
      const response = this.#validateResponse(result);
      if (this.#def.stream === 'response') {
        const responseStream = (result as { stream: Readable }).stream;
        // The deadline and the signal cover the stream until it ends.
        keepScope = true;
        const activeScope = scope;
        activeScope.onAbort((error) => {
          if (!responseStream.destroyed) responseStream.destroy(error);
        });
        this.#holds += 1;
        const release = (): void => {
          activeScope.dispose();
          this.#release();
        };
        if (responseStream.destroyed || responseStream.readableEnded) release();
        else responseStream.once('close', release);
        return { response, stream: responseStream };
      }
      // Over the network the rest of an unread request stream is refused; same here.
      destroyQuietly(stream);
      return response;
    } catch (error) {
      // Pipeline semantics: when a call fails, its request stream is destroyed.
      destroyQuietly(stream);
      throw error instanceof RpcError ? error : toRemoteError(error);
    } finally {
      if (!keepScope) scope?.dispose();
      if (!handlerStarted) this.#release();
    }
  }

  readonly #release = (): void => {
    this.#holds -= 1;
    if (this.#holds === 0) this.#markDone();
  };

  #scope(options: CallOptions | undefined, stream: Readable | undefined): CallScope {
    if (this.#def.stream === 'request' && !isReadable(stream)) {
      throw new RpcInvalidRequestError(`${this.#wireName} takes a request byte stream: pass a Readable`);
    }
    const metadata = options?.metadata;
    if (metadata !== undefined && (typeof metadata !== 'object' || !Object.values(metadata).every((v) => typeof v === 'string'))) {
      throw new RpcInvalidRequestError(`${this.#wireName}: metadata values must be strings`);
    }
    try {
      const scope = new CallScope(options);
      if (scope.aborted !== undefined) throw scope.aborted;
      return scope;
    } catch (error) {
      if (error instanceof RpcError) throw error;
      throw new RpcInvalidRequestError(`${this.#wireName}: ${errorMessage(error)}`, { cause: error });
    }
  }

  #validateRequest(request: unknown, _stream: Readable | undefined): unknown {
    const result = validate(this.#def.request, request, 'request');
    if (!result.ok) throw new RpcInvalidRequestError(`${this.#wireName}: ${result.message}`, { cause: result.error });
    return result.value;
  }

  #validateResponse(result: unknown): unknown {
    let value = result;
    if (this.#def.stream === 'response') {
      const stream = typeof result === 'object' && result !== null ? (result as { stream?: unknown }).stream : undefined;
      if (!isReadable(stream)) {
        throw new RpcRemoteError(`handler of ${this.#wireName} did not return { response, stream: Readable }`);
      }
      value = (result as { response: unknown }).response;
    }
    const checked = validate(this.#def.response, value, 'response');
    if (!checked.ok) {
      if (this.#def.stream === 'response') destroyQuietly((result as { stream: Readable }).stream);
      throw new RpcInvalidResponseError(`${this.#wireName}: ${checked.message}`, { cause: checked.error });
    }
    return checked.value;
  }
}

/** A handler's throw, as the network client would see it (with the original as `cause`). */
function toRemoteError(error: unknown): RpcRemoteError {
  const details = typeof error === 'object' && error !== null ? (error as { details?: unknown }).details : undefined;
  const remoteCode = error instanceof RpcRemoteError ? error.remoteCode : errorCode(error);
  return new RpcRemoteError(errorMessage(error), { cause: error, remoteCode, details });
}
