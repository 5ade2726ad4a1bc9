/**
 * `zferry status [--json] [--watch]`: what the running daemon is doing, asked over its control
 * socket. Once by default; `--watch` asks again every second: on a terminal a live view redrawn
 * in place (it rides out a daemon restart, Ctrl-C leaves it); elsewhere one frame (or with
 * `--json` one JSON line) per second until the daemon goes away.
 */
import type { Command } from 'commander';
import type { ControlClient } from '../daemon/control-client.js';
import { NoDaemonError } from '../daemon/control-errors.js';
import type { DaemonStatus } from '../daemon/status-types.js';
import { errorMessage } from '../platform/errors.js';
import { controlSocketOptions, resolveSockpath, type ControlSocketOptions } from './control-socket.js';
import { fitWidth, renderStatus } from './status-view.js';

interface StatusOptions extends ControlSocketOptions {
  json?: boolean;
  watch?: boolean;
}

const WATCH_INTERVAL_MS = 1000;

export function registerStatus(program: Command): void {
  controlSocketOptions(
    program
      .command('status')
      .description("show the daemon's jobs: state, schedule, last and current run, and each filesystem's progress")
      .option('--json', 'print the status as JSON on stdout (shape: docs/status.md); with --watch, one line per second')
      .option('--watch', 'ask again every second (on a terminal: a live view with progress bars)'),
  ).action(async (options: StatusOptions) => {
    const sockpath = await resolveSockpath(options, (message) => process.stderr.write(`zferry: warning: ${message}\n`));
    const { connectControl } = await import('../daemon/control-client.js');
    const client = await connectControl(sockpath);
    if (!options.watch) {
      try {
        process.stdout.write(formatFrame(await client.status(), options.json === true));
      } finally {
        await client.close();
      }
      return;
    }
    if (process.stdout.isTTY && !options.json) await liveView(client, sockpath, connectControl);
    else await stream(client, sockpath, options.json === true);
  });
}

function formatFrame(status: DaemonStatus, json: boolean, now = new Date()): string {
  return json ? `${JSON.stringify(status, null, 2)}\n` : `${renderStatus(status, { now }).join('\n')}\n`;
}

/** Not a terminal: a frame per second (a JSON line with --json) until the daemon goes away. */
async function stream(client: ControlClient, sockpath: string, json: boolean): Promise<void> {
  try {
    for (;;) {
      let status: DaemonStatus;
      try {
        status = await client.status();
      } catch (error) {
        throw new NoDaemonError(`the zferry daemon on ${sockpath} went away: ${errorMessage(error)}`, { cause: error });
      }
      process.stdout.write(json ? `${JSON.stringify(status)}\n` : `${formatFrame(status, false)}\n`);
      await sleep(WATCH_INTERVAL_MS);
    }
  } finally {
    await client.close().catch(() => undefined);
  }
}

const ESC = '\x1b[';
const ENTER = `${ESC}?1049h${ESC}?25l`; // the alternate screen, cursor hidden
const LEAVE = `${ESC}?25h${ESC}?1049l`;

/**
 * A terminal: the view redrawn in place every second on the alternate screen, so the shell's
 * screen comes back as it was. A lost daemon is shown and asked for again, Ctrl-C leaves.
 */
async function liveView(first: ControlClient, sockpath: string, connect: (sockpath: string) => Promise<ControlClient>): Promise<void> {
  const out = process.stdout;
  let client: ControlClient | undefined = first;
  let stopped = false;
  const stop = new Promise<void>((resolve) => {
    const leave = (): void => {
      stopped = true;
      resolve();
    };
    process.once('SIGINT', leave);
    process.once('SIGTERM', leave);
  });
  out.write(ENTER);
  try {
    while (!stopped) {
      const now = new Date();
      let lines: string[];
      try {
        client ??= await connect(sockpath);
        lines = renderStatus(await client.status(), { now });
      } catch (error) {
        void client?.close().catch(() => undefined);
        client = undefined;
        lines = [`${now.toLocaleTimeString()}  the daemon does not answer: ${errorMessage(error)}`, '', 'asking again every second'];
      }
      lines.push('', 'Ctrl-C to leave');
      const frame = fitWidth(lines, out.columns ?? 100).slice(0, Math.max(1, (out.rows ?? 50) - 1));
      // Home, each line cleared to its end, then everything below the frame.
      out.write(`${ESC}H${frame.map((line) => `${line}${ESC}K`).join('\n')}\n${ESC}J`);
      await Promise.race([sleep(WATCH_INTERVAL_MS), stop]);
    }
  } finally {
    out.write(LEAVE);
    await client?.close().catch(() => undefined);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
