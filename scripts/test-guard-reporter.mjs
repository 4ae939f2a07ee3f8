// node:test reporter used by scripts/run-tests.mjs. It wraps node's own reporter (`spec`
// on a terminal, `tap` otherwise, as node picks by default) and refuses two kinds of file
// node:test passes on its own:
//   - a file that reports no test at all (nothing registered, or the process ended before
//     its first result was written, e.g. `process.exit(0)` at import or in a subtest);
//   - a file with a test that was queued but never finished (the process exited mid-run).
// Each refused file becomes a failing test named after the file, and the closing summary
// (`# tests N`, `# pass N`, `# fail N`, the plan) is corrected to count it. The verdict is
// also written as JSON to the file named by PARLEY_TEST_GUARD_FILE ({ done, problems }),
// which the runner reads: an absent or unfinished verdict fails the run too.
import { writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { spec, tap } from 'node:test/reporters';

/** Per-file bookkeeping, keyed by the file's absolute path (a Map: paths are input). */
const files = new Map();
const problems = [];

function entry(file) {
  let e = files.get(file);
  if (e === undefined) {
    e = { queued: 0, finished: 0, closing: false, verdict: undefined, reported: false };
    files.set(file, e);
  }
  return e;
}

/** Why a file is refused, or undefined when it is fine. */
function judge(e) {
  if (e.finished === 0) return 'the file reported no test (none registered, or the process exited before any finished)';
  if (e.finished < e.queued) {
    return `${e.queued - e.finished} of ${e.queued} tests never finished (the process exited before they completed)`;
  }
  return undefined;
}

function isWrapper(data) {
  return data.file !== undefined && data.name === data.file && data.nesting === 0;
}

function failure(data, reason, testNumber = data.testNumber) {
  const error = new Error(reason);
  error.failureType = 'testCodeFailure';
  error.stack = `Error: ${reason}`;
  return {
    type: 'test:fail',
    data: {
      ...data,
      name: data.file,
      nesting: 0,
      testNumber,
      details: { duration_ms: data.details?.duration_ms ?? 0, error },
    },
  };
}

async function* guard(source) {
  let synthetic = 0; // failing tests added
  let converted = 0; // wrapper passes turned into failures
  let topLevel = 0; // top-level results seen, for the TAP test number of an added failure
  let pending; // a refused file whose wrapper result may still follow: { data, reason }
  const flushPending = function* () {
    if (pending === undefined) return;
    synthetic++;
    topLevel++;
    yield failure(pending.data, pending.reason, topLevel);
    pending = undefined;
  };
  for await (const event of source) {
    const data = event.data ?? {};
    if (pending !== undefined) {
      const same = data.file === pending.data.file && isWrapper(data);
      if (same && event.type === 'test:start') {
        yield event;
        continue;
      }
      if (same && event.type === 'test:pass') {
        converted++;
        topLevel++;
        yield failure(data, pending.reason);
        pending = undefined;
        continue;
      }
      if (same && event.type === 'test:fail') {
        topLevel++;
        pending = undefined; // node already fails it
        yield event;
        continue;
      }
      yield* flushPending();
    }
    switch (event.type) {
      case 'test:enqueue':
        if (data.file !== undefined && !isWrapper(data)) entry(data.file).queued++;
        break;
      case 'test:pass':
      case 'test:fail':
        if (data.nesting === 0) topLevel++;
        if (data.file !== undefined && !isWrapper(data)) entry(data.file).finished++;
        break;
      case 'test:complete':
        if (isWrapper(data)) {
          const e = entry(data.file);
          const reason = judge(e);
          if (reason !== undefined && !e.reported && data.details?.passed !== false) {
            e.reported = true;
            problems.push({ file: data.file, reason });
            pending = { data, reason };
          }
        }
        break;
      case 'test:plan':
        if (data.file === undefined && data.nesting === 0) {
          yield { ...event, data: { ...data, count: data.count + synthetic } };
          continue;
        }
        break;
      case 'test:diagnostic': {
        const m = /^(tests|pass|fail) (\d+)$/.exec(data.message ?? '');
        if (m !== null && data.file === undefined && data.nesting === 0) {
          const n = Number(m[2]);
          const fixed = m[1] === 'tests' ? n + synthetic : m[1] === 'pass' ? n - converted : n + synthetic + converted;
          yield { ...event, data: { ...data, message: `${m[1]} ${fixed}` } };
          continue;
        }
        break;
      }
      default:
        break;
    }
    yield event;
  }
  yield* flushPending();
  if (problems.length > 0) process.exitCode = 1;
  const out = process.env.PARLEY_TEST_GUARD_FILE;
  if (out) writeFileSync(out, JSON.stringify({ done: true, problems }));
}

export default async function* guardedReporter(source) {
  const useSpec = process.env.PARLEY_TEST_REPORTER ? process.env.PARLEY_TEST_REPORTER === 'spec' : process.stdout.isTTY;
  const out = useSpec ? Readable.from(guard(source)).pipe(new spec()) : tap(guard(source));
  for await (const chunk of out) yield chunk;
}
