#!/usr/bin/env node
// The installed `zferry` command, built as dist/zferry.js beside the CLI bundle: see launcher.ts.
import { fileURLToPath } from 'node:url';
import { runBundle } from './launcher.js';

runBundle(fileURLToPath(new URL('./zferry.cjs', import.meta.url)));
