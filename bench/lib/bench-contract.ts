/** The contract the RPC benchmark measures: a counted request stream and a tiny call. */
import { z } from 'zod';
import { defineContract, endpoint } from '../../rpc/index.js';
import type { Implementation } from '../../rpc/index.js';
import { countBytes } from './bulk.js';
import { cpuMsSince, now } from './report.js';

export const benchContract = defineContract('bench', {
  /** Count the bytes of the request stream; `end` is when the last one arrived (absolute ms), `cpuMs` what counting cost. */
  upload: endpoint({ stream: 'request', request: z.object({}), response: z.object({ bytes: z.number(), end: z.number(), cpuMs: z.number() }) }),
  ping: endpoint({ stream: 'none', request: z.object({ n: z.number() }), response: z.object({ n: z.number() }) }),
});

export const benchImplementation: Implementation<typeof benchContract> = {
  async upload(_req, stream) {
    const cpu = process.cpuUsage();
    const bytes = await countBytes(stream);
    return { bytes, end: now(), cpuMs: cpuMsSince(cpu) };
  },
  async ping(req) {
    return { n: req.n };
  },
};
