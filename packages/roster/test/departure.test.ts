import { test } from 'node:test';
import assert from 'node:assert/strict';
import { departureStanzas, type RosterItem } from '../src/index.js';

const item = (jid: string, subscription: RosterItem['subscription'], ask = false): RosterItem => ({ jid, subscription, ask, approved: false, groups: [] });
const show = (els: ReturnType<typeof departureStanzas>) => els.map((e) => `${e.attrs.type} ${e.attrs.from} -> ${e.attrs.to}`);

test('account removal cancels each subscription as roster removal would (RFC 6121 §2.5.2), unavailable first', () => {
  const out = departureStanzas('d@x', {
    items: [item('both@x', 'both'), item('from@x', 'from'), item('to@x', 'to'), item('asked@x', 'none', true), item('none@x', 'none')],
    pendingFrom: ['req@x', 'from@x'],
    availableResources: ['r1', 'r2'],
  });
  assert.deepEqual(show(out), [
    'unavailable d@x/r1 -> both@x',
    'unavailable d@x/r2 -> both@x',
    'unsubscribed d@x -> both@x',
    'unsubscribe d@x -> both@x',
    'unavailable d@x/r1 -> from@x',
    'unavailable d@x/r2 -> from@x',
    'unsubscribed d@x -> from@x',
    'unsubscribe d@x -> to@x',
    'unsubscribe d@x -> asked@x',
    'unsubscribed d@x -> req@x',
  ]);
});

test('an account with no session sends no unavailable; an item for itself is skipped', () => {
  const out = departureStanzas('d@x', { items: [item('both@x', 'both'), item('d@x', 'both')], pendingFrom: [], availableResources: [] });
  assert.deepEqual(show(out), ['unsubscribed d@x -> both@x', 'unsubscribe d@x -> both@x']);
});
