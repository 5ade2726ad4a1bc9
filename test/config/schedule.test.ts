import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cronProblem, describeSchedule, nextRun, timeZoneProblem } from '../../config/schedule.js';

test('describeSchedule says each form in words', () => {
  assert.equal(describeSchedule({ kind: 'interval', everyMs: 600_000 }), 'every 10m');
  assert.equal(describeSchedule({ kind: 'interval', everyMs: 5_400_000 }), 'every 1h30m');
  assert.equal(describeSchedule({ kind: 'cron', expression: '0 3 * * *', timeZone: 'Europe/Berlin' }), 'cron 0 3 * * * (Europe/Berlin)');
  assert.equal(describeSchedule({ kind: 'cron', expression: '*/5 * * * * *' }), 'cron */5 * * * * *');
  assert.equal(describeSchedule({ kind: 'manual' }), 'manual');
});

test('nextRun: an interval adds up, manual never runs', () => {
  const after = new Date('2024-03-01T12:00:00.000Z');
  assert.deepEqual(nextRun({ kind: 'interval', everyMs: 600_000 }, after), new Date('2024-03-01T12:10:00.000Z'));
  assert.equal(nextRun({ kind: 'manual' }, after), undefined);
});

test('nextRun: cron in UTC, with seconds, and in a time zone across a DST change', () => {
  const after = new Date('2024-03-01T12:00:00.000Z');
  assert.deepEqual(nextRun({ kind: 'cron', expression: '0 3 * * *', timeZone: 'UTC' }, after), new Date('2024-03-02T03:00:00.000Z'));
  assert.deepEqual(nextRun({ kind: 'cron', expression: '*/15 * * * * *', timeZone: 'UTC' }, after), new Date('2024-03-01T12:00:15.000Z'));
  // 03:00 in Berlin is 02:00 UTC in winter (CET) and 01:00 UTC in summer (CEST, from 31 March 2024).
  assert.deepEqual(nextRun({ kind: 'cron', expression: '0 3 * * *', timeZone: 'Europe/Berlin' }, after), new Date('2024-03-02T02:00:00.000Z'));
  assert.deepEqual(
    nextRun({ kind: 'cron', expression: '0 3 * * *', timeZone: 'Europe/Berlin' }, new Date('2024-04-10T12:00:00.000Z')),
    new Date('2024-04-11T01:00:00.000Z'),
  );
  // Day of week: the next Sunday.
  assert.deepEqual(nextRun({ kind: 'cron', expression: '0 4 * * SUN', timeZone: 'UTC' }, after), new Date('2024-03-03T04:00:00.000Z'));
  // Strictly after: a run at exactly `after` is not the next one.
  assert.deepEqual(nextRun({ kind: 'cron', expression: '0 12 * * *', timeZone: 'UTC' }, after), new Date('2024-03-02T12:00:00.000Z'));
});

test('cron expressions and time zones croner and Intl refuse', () => {
  assert.equal(cronProblem('0 3 * * *'), undefined);
  assert.equal(cronProblem('@daily'), undefined);
  assert.match(cronProblem('0 25 * * *') ?? '', /^invalid cron expression "0 25 \* \* \*": .*hour/);
  assert.match(cronProblem('0 3 * *') ?? '', /five, six, or seven/);
  assert.equal(timeZoneProblem('Europe/Berlin'), undefined);
  assert.match(timeZoneProblem('Mars/Olympus') ?? '', /unknown time zone "Mars\/Olympus"/);
});
