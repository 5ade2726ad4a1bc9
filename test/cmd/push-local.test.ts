// `zferry push` with both sides on this host (LocalRPC), every scenario.
import { localMode } from '../helpers/replication-modes.js';
import { replicationScenarios } from '../helpers/replication-scenarios.js';

replicationScenarios(localMode('push'));
