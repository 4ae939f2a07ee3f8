// MamStore (XEP-0313 account archives in Redis, real redis-server): appends and the atomic
// trim by count and age with the id index, duplicate ids, RSM paging both ways with
// complete/count, item-not-found, the `with` filter; and two measurements at 10,000 archived
// messages: the latency of a page of 50 (first page, last page, a filtered page) and the
// Redis memory per archived message.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { Redis } from 'ioredis';
import { keySpace } from '@parley/bus';
import { startRedis, type RedisServer } from '@parley/testkit';
import { defineScripts, type ScriptedRedis } from '../src/routing/scripts.js';
import { MamStore, type AccountArchivePage } from '@parley/accounts';

const keys = keySpace(`t-mam-${randomBytes(4).toString('hex')}:`);
let server: RedisServer;
let db: ScriptedRedis;

before(async () => {
  server = await startRedis();
  db = defineScripts(server.client() as Redis);
});
after(async () => {
  await server.stop();
});

const msg = (i: number, from = 'b@h/r') => `<message xmlns='jabber:client' from='${from}' to='a@h/r' type='chat' id='m${i}'><body>message number ${i}</body></message>`;
const bodies = (p: AccountArchivePage | 'item-not-found') => (p === 'item-not-found' ? p : p.entries.map((e) => /number (\d+)/.exec(e.xml)![1]).join(','));

test('appends trim by count with their index; duplicate ids are refused', async () => {
  const store = new MamStore(db, keys, { maxEntries: 3, maxAgeMs: 0 });
  const ids: string[] = [];
  for (let i = 1; i <= 5; i++) {
    const id = `id${i}`;
    ids.push(id);
    assert.equal(typeof (await store.append('count@h', id, 'b@h/r', msg(i))), 'number');
  }
  assert.equal(await store.append('count@h', 'id5', 'b@h/r', msg(6)), undefined, 'an id already archived');
  assert.equal(await db.xlen(keys.mamArchive('count@h')), 3);
  assert.deepEqual((await db.hkeys(keys.mamArchiveIndex('count@h'))).sort(), ['id3', 'id4', 'id5']);
  assert.equal(await store.readPage('count@h', { max: 10, after: 'id1' }, Date.now()), 'item-not-found');
  const page = await store.readPage('count@h', { max: 10 }, Date.now());
  assert.equal(bodies(page), '3,4,5');
  assert.equal((page as AccountArchivePage).count, 3);
});

test('appends trim by age; reads leave out what is too old', async () => {
  const store = new MamStore(db, keys, { maxEntries: 100, maxAgeMs: 150 });
  await store.append('age@h', 'old1', 'b@h', msg(1));
  await store.append('age@h', 'old2', 'b@h', msg(2));
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(bodies(await store.readPage('age@h', { max: 10 }, Date.now())), '', 'too old to be read');
  await store.append('age@h', 'new', 'b@h', msg(3));
  assert.equal(await db.xlen(keys.mamArchive('age@h')), 1);
  assert.deepEqual(await db.hkeys(keys.mamArchiveIndex('age@h')), ['new']);
});

test('paging both ways, complete, with, start/end', async () => {
  const store = new MamStore(db, keys, { maxEntries: 100, maxAgeMs: 0 });
  const at: number[] = [];
  for (let i = 1; i <= 6; i++) at.push((await store.append('page@h', `p${i}`, i % 2 ? 'b@h/r' : 'c@h/s', msg(i, i % 2 ? 'b@h/r' : 'c@h/s')))!);
  const now = Date.now();
  const p1 = (await store.readPage('page@h', { max: 2 }, now)) as AccountArchivePage;
  assert.deepEqual([bodies(p1), p1.complete], ['1,2', false]);
  const p3 = (await store.readPage('page@h', { max: 2, after: 'p4' }, now)) as AccountArchivePage;
  assert.deepEqual([bodies(p3), p3.complete], ['5,6', true]);
  const last = (await store.readPage('page@h', { max: 2, before: '' }, now)) as AccountArchivePage;
  assert.deepEqual([bodies(last), last.complete], ['5,6', false]);
  const first = (await store.readPage('page@h', { max: 4, before: 'p3' }, now)) as AccountArchivePage;
  assert.deepEqual([bodies(first), first.complete], ['1,2', true]);
  const between = (await store.readPage('page@h', { max: 10, after: 'p1', before: 'p5' }, now)) as AccountArchivePage;
  assert.equal(bodies(between), '2,3,4');
  const withB = (await store.readPage('page@h', { max: 2, with: 'b@h' }, now)) as AccountArchivePage;
  assert.deepEqual([bodies(withB), withB.complete, withB.count], ['1,3', false, undefined]);
  assert.equal(bodies(await store.readPage('page@h', { max: 10, with: 'c@h/s' }, now)), '2,4,6');
  assert.equal(bodies(await store.readPage('page@h', { max: 10, with: 'c@h/t' }, now)), '');
  assert.equal(bodies(await store.readPage('page@h', { max: 10, start: at[5]! + 1 }, now)), '');
  assert.equal(bodies(await store.readPage('page@h', { max: 10, end: at[0]! - 1 }, now)), '');
  const count = (await store.readPage('page@h', { max: 0 }, now)) as AccountArchivePage;
  assert.deepEqual([count.entries.length, count.count, count.complete], [0, 6, false]);
});

test('measure: a page of 50 at 10,000 archived messages; bytes per archived message', async () => {
  // PARLEY_MAM_MEASURE_N: another archive size (bench/results/account-mam-*.md used 100,000 too).
  const N = Number(process.env.PARLEY_MAM_MEASURE_N ?? 10_000);
  const owner = 'measure@localhost';
  const store = new MamStore(db, keys, { maxEntries: N, maxAgeMs: 0 });
  const before = Number(/used_memory:(\d+)/.exec(await db.info('memory'))![1]);
  const ids: string[] = [];
  for (let i = 0; i < N; i += 500) {
    await Promise.all(
      Array.from({ length: 500 }, (_, k) => {
        const id = randomUUID();
        ids.push(id);
        const from = (i + k) % 10 === 0 ? 'friend@localhost/phone' : 'other@localhost/desk';
        const xml = `<message xmlns="jabber:client" from="${from}" to="${owner}/laptop" type="chat" id="${randomUUID()}"><body>A typical chat line of about sixty characters, number ${i + k}.</body><active xmlns="http://jabber.org/protocol/chatstates"/></message>`;
        return store.append(owner, id, from, xml);
      }),
    );
  }
  const after = Number(/used_memory:(\d+)/.exec(await db.info('memory'))![1]);
  const streamBytes = Number(await db.call('MEMORY', 'USAGE', keys.mamArchive(owner), 'SAMPLES', '0'));
  const indexBytes = Number(await db.call('MEMORY', 'USAGE', keys.mamArchiveIndex(owner), 'SAMPLES', '0'));
  assert.equal(await db.xlen(keys.mamArchive(owner)), N);
  const time = async (q: Parameters<MamStore['readPage']>[1], runs = 50) => {
    const started = process.hrtime.bigint();
    let page: AccountArchivePage | 'item-not-found' = 'item-not-found';
    for (let r = 0; r < runs; r++) page = await store.readPage(owner, q, Date.now());
    return { ms: Number(process.hrtime.bigint() - started) / 1e6 / runs, page: page as AccountArchivePage };
  };
  const first = await time({ max: 50 });
  const lastPage = await time({ max: 50, before: '' });
  const middle = await time({ max: 50, after: ids[5000]! });
  const filtered = await time({ max: 50, with: 'friend@localhost', before: '' });
  assert.equal(first.page.entries.length, 50);
  assert.equal(lastPage.page.entries.length, 50);
  assert.equal(filtered.page.entries.length, 50);
  assert.ok(filtered.page.entries.every((e) => e.with.startsWith('friend@')));
  const report = {
    messages: N,
    bytesPerMessage: { stream: Math.round(streamBytes / N), idIndex: Math.round(indexBytes / N), usedMemoryDelta: Math.round((after - before) / N) },
    pageOf50Ms: { first: +first.ms.toFixed(2), last: +lastPage.ms.toFixed(2), afterId: +middle.ms.toFixed(2), withFilterLast: +filtered.ms.toFixed(2) },
  };
  console.log(`# account MAM measurement ${JSON.stringify(report)}`);
  // Generous bounds (shared CPU), so that a regression by an order of magnitude fails.
  assert.ok(first.ms < 100 && lastPage.ms < 100, JSON.stringify(report));
});
