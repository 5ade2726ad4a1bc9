/**
 * RPC limits zferry's own connections announce. The library default stream window (2 MiB)
 * keeps small calls quick under a bulk stream on a LAN, but one stream can only have a window
 * in flight per round trip: 2 MiB caps a snapshot stream at ~40 MiB/s over a 50 ms link.
 * Replication streams are the point of these connections, so they accept 16 MiB per stream
 * (~320 MiB/s at 50 ms); the listings and cursor moves around them tolerate the extra queueing.
 */
import type { RpcLimits } from '../../rpc/limits.js';

export const REPLICATION_RPC_LIMITS: Partial<RpcLimits> = { streamWindow: 16 * 1024 * 1024 };
