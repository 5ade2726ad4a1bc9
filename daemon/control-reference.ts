/**
 * docs/control.md: the reference of the control contract, rendered from control-contract.ts
 * and status-schema.ts (written by `npm run docs:endpoints`, compared by a test so it cannot drift).
 */
import { renderContractReference } from '../rpc/contract-docs.js';
import { controlContract } from './control-contract.js';
import { CONTROL_ERROR_CODES } from './control-errors.js';

export const CONTROL_REFERENCE_PATH = 'docs/control.md';

const INTRO = [
  '<!-- Generated from daemon/control-contract.ts and daemon/status-schema.ts by `npm run docs:endpoints`: do not edit by hand. `npm test` fails when this file and the contract disagree. -->',
  'What a running `zferry daemon` answers on its control socket (`global.control.sockpath`, default `/run/zferry/control`), over the wire protocol of [protocol.md](protocol.md): ' +
    '`zferry status` calls `status`, `zferry signal` calls `signal`. The daemon is the acceptor; each call is a request HEADERS frame naming `zferry.control.v1/<endpoint>` (protocol.md §5). ' +
    'How the socket is kept safe, and what the commands print, is in [status.md](status.md).',
  'The request and the response are each one MessagePack map (protocol.md §6) with the members listed; an optional member is left out, never sent as nil. ' +
    'Members the tables do not list are dropped before the handler sees a request (and before the caller uses a response).',
  'A failing handler answers with a response HEADERS `{"kind":"response","ok":false,"error":{"code":"RPC_REMOTE","remoteCode":CODE,"message":…}}`, where CODE is one of the codes listed for the endpoint (meanings at the end). ' +
    "Any call can also fail with the protocol's own codes (protocol.md §9), `RPC_INVALID_REQUEST` among them when the request does not match the tables below.",
];

export function renderControlReference(): string {
  return renderContractReference(controlContract, {
    title: 'zferry control socket (`zferry.control.v1`)',
    intro: INTRO,
    errorCodes: CONTROL_ERROR_CODES,
  });
}
