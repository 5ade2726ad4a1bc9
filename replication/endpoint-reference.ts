/**
 * docs/endpoints.md: the reference of the replication endpoint contract, rendered from
 * contract.ts (written by `npm run docs:endpoints`, compared by a test so it cannot drift).
 */
import { renderContractReference } from '../rpc/contract-docs.js';
import { endpointContract } from './contract.js';
import { ENDPOINT_ERROR_CODES } from './error-codes.js';

export const ENDPOINT_REFERENCE_PATH = 'docs/endpoints.md';

const INTRO = [
  '<!-- Generated from replication/contract.ts by `npm run docs:endpoints`: do not edit by hand. `npm test` fails when this file and the contract disagree. -->',
  'What a zferry replication endpoint serves, over the wire protocol of [protocol.md](protocol.md): `zferry serve --stdio` (run by push and pull through ssh) serves it on its stdin and stdout, as the acceptor. ' +
    'Each endpoint below is called by a request HEADERS frame naming `zferry.endpoint.v1/<endpoint>` (protocol.md §5).',
  'The request and the response are each one MessagePack map (protocol.md §6) with the members listed. An optional member is left out, never sent as nil. ' +
    'Members the tables do not list are dropped before the handler sees a request (and before the caller uses a response), except in objects marked "no other members", which refuse them. ' +
    'Integers are MessagePack integers; guids are decimal strings, since 64 bits do not fit a double.',
  'A byte stream (`zfs send` output) follows the MESSAGE of the side that carries it as DATA frames, ended by a trailer HEADERS (protocol.md §7).',
  'A failing handler answers with a response HEADERS `{"kind":"response","ok":false,"error":{"code":"RPC_REMOTE","remoteCode":CODE,"message":…}}`, where CODE is one of the codes listed for the endpoint (meanings at the end). ' +
    "Any call can also fail with the protocol's own codes (protocol.md §9): `RPC_INVALID_REQUEST` when the request does not match the tables below (the message names the members), `RPC_UNKNOWN_ENDPOINT`, `RPC_CANCELLED`, `RPC_DEADLINE_EXCEEDED`, `RPC_GOAWAY`; " +
    "and with `RPC_REMOTE` and `remoteCode` `RPC_RESPONSE_TOO_LARGE` when the answer exceeds the caller's `maxMessageBytes`.",
  'Names are checked twice: by the patterns below, and again by the zfs driver before any zfs command runs (`ZFS_INVALID_NAME`). ' +
    'With `zferry serve --root DATASET` (repeatable), every dataset a request names must be one of those or below one, or the call fails with `ENDPOINT_OUTSIDE_ROOT`. ' +
    'An endpoint served to a client identity checks every name again itself, before any zfs command, and names the client in each refusal (see replication.md, Hostile input).',
];

export function renderEndpointReference(): string {
  return renderContractReference(endpointContract, {
    title: 'zferry replication endpoints (`zferry.endpoint.v1`)',
    intro: INTRO,
    errorCodes: ENDPOINT_ERROR_CODES,
  });
}
