// `zferry pull` from a "remote" reached through a real sshd on 127.0.0.1 running `zferry serve --stdio`.
import { after, before } from 'node:test';
import { sshMode } from '../helpers/replication-modes.js';
import { replicationScenarios } from '../helpers/replication-scenarios.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';

let sshd: Sshd | undefined;
before(async () => {
  sshd = await startSshd();
  await sshd.authorize();
});
after(async () => {
  await sshd?.stop();
});

replicationScenarios(
  sshMode('pull', () => sshd!),
);
