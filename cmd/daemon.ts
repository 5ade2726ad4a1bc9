/**
 * `zferry daemon [--config FILE]`: runs the config's jobs on their schedules, in the
 * foreground (systemd Type=simple), logging to stderr and the config's outlets.
 *
 * - An invalid config at start: every problem is printed, exit 2.
 * - SIGTERM / SIGINT: nothing new starts, running invocations are stopped (their transfers
 *   end, targets stay at their last complete snapshot, step holds are released), then exit 0,
 *   within 10 s. A second signal exits at once (once this host's zfs processes are gone).
 * - SIGHUP: the config is loaded again; an invalid one is logged problem by problem and the
 *   running one stays; a valid one is applied (daemon/daemon.ts says how).
 * - At start, zfs processes a killed zferry left behind are ended (daemon/orphans.ts).
 * - `global.monitoring` prometheus endpoints serve /metrics from start to shutdown; one that
 *   cannot listen fails the start (exit 1), naming its address.
 */
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { DEFAULT_CONFIG_FILE, type Config } from '../config/types.js';
import { errorMessage } from '../platform/errors.js';
import { tuneV8ForIdle } from '../platform/index.js';
import { VERSION } from './version.js';

/** Shutdown must be over within 10 s: invocations get this long to end, the rest is for closing. */
const SHUTDOWN_WAIT_MS = 7000;
const SHUTDOWN_DEADLINE_MS = 9500;

export function registerDaemon(program: Command): void {
  program
    .command('daemon')
    .description('run the jobs of the config file on their schedules (foreground; logs on stderr)')
    .option('--config <file>', 'the configuration file', DEFAULT_CONFIG_FILE)
    .action(async (options: { config: string }) => {
      await runDaemon(options.config);
    });
}

async function runDaemon(file: string): Promise<void> {
  const [{ loadConfig }, { createDaemonLogger }, { Daemon }, { EndpointOpener }, { recoverHost }, { DaemonMetrics }, { startMetricsServer }] =
    await Promise.all([
      import('../config/load.js'),
      import('../daemon/logger.js'),
      import('../daemon/daemon.js'),
      import('../replication/endpoint/open.js'),
      import('../daemon/host-recovery.js'),
      import('../daemon/metrics/daemon-metrics.js'),
      import('../daemon/metrics/http-server.js'),
    ]);
  // Invalid: ConfigError names every problem; the top-level catch prints it and exits 2.
  const config = await loadConfig(file);
  // The daemon idles between runs: it must give back the memory a run grew (daemon.ts switches
  // back to the bulk-stream setting while invocations run).
  tuneV8ForIdle(true);
  const { logger, close: closeLogger } = await createDaemonLogger(config.global.logging, { levelOverride: process.env.ZFERRY_LOG_LEVEL });
  await recoverHost(config.global.stateDir, logger);
  const metrics = new DaemonMetrics();
  const opener = new EndpointOpener({ logger, onZfsCommand: metrics.zfsCommand });
  const daemon = await Daemon.create({ config, logger, version: VERSION, opener, metrics });
  // The socket first: a second daemon on the same socket is refused before it runs anything.
  const control = await startControl(daemon, config, logger);
  const metricsServer = await startMetricsServer(metrics, config.global.monitoring, logger).catch(async (error: unknown) => {
    await control.close().catch(() => undefined);
    throw error;
  });
  await daemon.begin();

  // The timers of the jobs keep the process alive; with only manual jobs and listeners, this does.
  const keepAlive = setInterval(() => undefined, 2 ** 31 - 1);
  let reloading: Promise<void> = Promise.resolve();
  const onHangup = (): void => {
    reloading = reloading.then(() => reload(file, daemon, logger, loadConfig));
  };
  process.on('SIGHUP', onHangup);

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    let first: NodeJS.Signals | undefined;
    const onSignal = (received: NodeJS.Signals): void => {
      if (first === undefined) {
        first = received;
        resolve(received);
        return;
      }
      process.stderr.write(`zferry: ${received} again: exiting now\n`);
      void import('../replication/zfs/spawn.js').then(({ zfsProcessesGone }) => zfsProcessesGone(2000)).finally(() => process.exit(0));
    };
    // The handlers stay until exit (see cmd/interrupt.ts: signal-exit would re-raise otherwise).
    process.on('SIGTERM', () => onSignal('SIGTERM'));
    process.on('SIGINT', () => onSignal('SIGINT'));
  });
  // Whatever happens below, the process is gone within 10 s of the signal.
  setTimeout(() => {
    logger.error('shutdown took too long: exiting');
    process.exit(0);
  }, SHUTDOWN_DEADLINE_MS).unref();
  logger.info({ signal }, 'shutting down');
  process.off('SIGHUP', onHangup);
  clearInterval(keepAlive);
  const stopped = await Promise.race([
    daemon.shutdown().then(() => true),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), SHUTDOWN_WAIT_MS).unref()),
  ]);
  if (!stopped) logger.error('some invocations did not stop in time');
  const { zfsProcessesGone } = await import('../replication/zfs/spawn.js');
  await zfsProcessesGone(1000);
  await control.close().catch((error: unknown) => logger.warn({ err: error }, 'closing the control socket failed'));
  await metricsServer.close();
  logger.info('stopped');
  await closeLogger();
}

/** The control socket (`zferry status`, `zferry signal`) at `global.control.sockpath`. */
async function startControl(daemon: import('../daemon/daemon.js').Daemon, config: Config, logger: Logger): Promise<{ close(): Promise<void> }> {
  const { startControlServer } = await import('../daemon/control-server.js');
  return startControlServer(daemon, config.global.control.sockpath, logger);
}

async function reload(file: string, daemon: import('../daemon/daemon.js').Daemon, logger: Logger, load: (file: string) => Promise<Config>): Promise<void> {
  logger.info({ config: file }, 'SIGHUP: reloading the config');
  try {
    await daemon.reload(await load(file));
  } catch (error) {
    const problems = (error as { problems?: ReadonlyArray<unknown> }).problems;
    const lines = errorMessage(error).split('\n');
    for (const line of problems !== undefined ? lines.slice(1) : lines) logger.error({ config: file }, line);
    logger.error({ config: file }, 'config not reloaded: the running config stays');
  }
}
