/**
 * A serving job's bandwidth limit: a source's `send.bandwidth_limit` paces every `send` answer,
 * a sink's `recv.bandwidth_limit` every `receive` request, on one bucket per job shared by all
 * of its clients (createSharedBucket). Wraps an endpoint implementation; the other calls pass
 * through untouched. A paced stream is never handed over for a same-host direct send: its bytes
 * must pass through the bucket.
 */
import type { Implementation } from '../../rpc/index.js';
import type { EndpointContract } from '../contract.js';
import { throttleReadable } from '../throttle/throttled-stream.js';
import type { TokenBucket } from '../throttle/token-bucket.js';

export interface EndpointBuckets {
  /** Paces what this endpoint sends (a source job's `send.bandwidth_limit`). */
  send?: TokenBucket;
  /** Paces what this endpoint receives (a sink job's `recv.bandwidth_limit`). */
  recv?: TokenBucket;
}

export function throttleEndpoint(implementation: Implementation<EndpointContract>, buckets: EndpointBuckets): Implementation<EndpointContract> {
  const { send: sendBucket, recv: recvBucket } = buckets;
  if (sendBucket === undefined && recvBucket === undefined) return implementation;
  return {
    ...implementation,
    ...(sendBucket !== undefined
      ? {
          async send(req, ctx) {
            const answer = await implementation.send(req, ctx);
            return { ...answer, stream: throttleReadable(answer.stream, sendBucket) };
          },
        }
      : {}),
    ...(recvBucket !== undefined
      ? {
          receive: (req, stream, ctx) => implementation.receive(req, throttleReadable(stream, recvBucket), ctx),
        }
      : {}),
  };
}
