// `zferry pull` with the far side behind a real sshd on 127.0.0.1 running `zferry serve --stdio`.
import { sshMode } from '../helpers/replication-modes.js';
import { replicationScenarios } from '../helpers/replication-scenarios.js';
import { useSshd } from '../helpers/sshd.js';

replicationScenarios(sshMode('pull', useSshd()));
