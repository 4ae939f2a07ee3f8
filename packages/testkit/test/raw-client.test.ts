import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { RawClient, TestkitError } from '../src/index.js';

async function listen(onSocket: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(onSocket);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  assert.ok(addr !== null && typeof addr === 'object');
  return { server, port: addr.port };
}

test('waitFor sees data split across packets, from an offset, and fails on timeout', async () => {
  const { server, port } = await listen((s) => {
    s.on('data', (d) => {
      const text = d.toString();
      if (text === 'hello') {
        s.write('<a>one</a><b');
        setTimeout(() => s.write('>two</b>'), 20);
      }
    });
  });
  const raw = await RawClient.connect(port);
  try {
    await raw.send('hello');
    const m = await raw.waitFor(/<b>(\w+)<\/b>/);
    assert.equal(m[1], 'two');
    const mark = raw.length;
    await assert.rejects(raw.waitFor(/<a>/, { from: mark, timeoutMs: 50 }), (err: unknown) => {
      assert.ok(err instanceof TestkitError);
      assert.equal(err.code, 'RAW_TIMEOUT');
      assert.match(err.message, /<b>two<\/b>/, 'the error quotes what was received');
      return true;
    });
    assert.equal(await raw.waitFor((t) => t.startsWith('<a>one')), '<a>one</a><b>two</b>');
  } finally {
    raw.destroy();
    server.close();
  }
});

test('closed() resolves when the server closes, and a pending waitFor fails at once', async () => {
  const { server, port } = await listen((s) => s.end('<bye/>'));
  const raw = await RawClient.connect(port);
  try {
    await assert.rejects(raw.waitFor(/never/, 10_000), /socket closed/);
    await raw.closed(2000);
    assert.equal(raw.isClosed, true);
    assert.equal(raw.endedByServer, true);
    assert.equal(raw.text, '<bye/>');
  } finally {
    server.close();
  }
});

test('closed() rejects while the socket stays open', async () => {
  const sockets: Socket[] = [];
  const { server, port } = await listen((s) => sockets.push(s));
  const raw = await RawClient.connect(port);
  try {
    await assert.rejects(raw.closed(50), /still open after 50 ms/);
  } finally {
    raw.destroy();
    for (const s of sockets) s.destroy();
    server.close();
  }
});

test('pump stops when the server closes mid-stream instead of writing everything', async () => {
  const total = 64 * 1024 * 1024;
  const { server, port } = await listen((s) => {
    let seen = 0;
    s.on('data', (d) => {
      seen += d.length;
      if (seen > 100_000) {
        s.write('<error/>');
        s.destroy();
      }
    });
  });
  const raw = await RawClient.connect(port);
  try {
    const chunk = Buffer.alloc(64 * 1024, 'A');
    function* chunks() {
      for (let sent = 0; sent < total; sent += chunk.length) yield chunk;
    }
    const result = await raw.pump(chunks(), { stopWhen: /<error\/>/ });
    assert.notEqual(result.stoppedBy, 'done');
    assert.ok(result.bytesSent < total, `stopped after ${result.bytesSent} bytes`);
    await raw.closed();
  } finally {
    raw.destroy();
    server.close();
  }
});
