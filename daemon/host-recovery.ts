/**
 * What a daemon or `zferry run` does on this host before it replicates: end the zfs processes a
 * killed zferry left (orphans.ts), release the holds of sends that died with it
 * (send-journal-file.ts), and journal its own sends from now on.
 */
import type { Logger } from 'pino';
import { setSendJournal } from '../replication/zfs/send-journal.js';
import { defaultProbeCachePath, ZfsDriver } from '../replication/zfs/index.js';
import { endOrphanZfsProcesses } from './orphans.js';
import { FileSendJournal, releaseLeftSendHolds, sendJournalDir } from './send-journal-file.js';

export async function recoverHost(stateDir: string, logger: Logger): Promise<void> {
  const driver = new ZfsDriver({ logger, probeCacheFile: defaultProbeCachePath() });
  await endOrphanZfsProcesses({ logger, driver });
  const dir = sendJournalDir(stateDir);
  await releaseLeftSendHolds(dir, driver, logger);
  setSendJournal(new FileSendJournal(dir, logger));
}
