import type { Redis } from 'ioredis';
import { isCluster } from '@parley/service-runtime';

/**
 * Makes a single-node client (one Redis, or its Sentinel-named master) send the commands
 * issued in one event-loop turn in one socket write, in the order they were issued: the
 * first write of a turn corks the connection's socket (`socket.cork()`) and a `setImmediate`
 * uncorks it, so Node hands everything written meanwhile to the kernel in one `writev`.
 * That is what ioredis's `enableAutoPipelining` is used for, without its garbage: ioredis
 * makes one `Pipeline` per turn for it (a few KB each: it copies every Lua command defined on
 * the connection onto itself) plus promise chains and reply arrays per command, which the
 * gateway's young generation promoted at every scavenge (issue #15,
 * bench/results/allocations-2026-12-07.md). Give the client `enableAutoPipelining: false`.
 *
 * Order on the connection is the call order of every command, `pipeline().exec()` and
 * `multi().exec()` alike: all are written into the same socket buffer as they are called
 * (ioredis's auto-pipelining instead wrote a turn's single commands at its end, after any
 * pipeline executed in that turn). Redis answers in that order and ioredis matches replies
 * to its command queue as before.
 *
 * A Cluster is returned unchanged (its commands go to several node connections that ioredis
 * makes itself): keep `enableAutoPipelining` there.
 * @param redis - a client from `createRedis` (@parley/service-runtime), before or after it connected
 * @returns `redis` itself (its `sendCommand` is wrapped on the instance)
 */
export function batchWritesPerTurn<R extends Redis>(redis: R): R {
  if (isCluster(redis)) return redis;
  const send = redis.sendCommand;
  /** The socket corked in this turn (uncorked at the next check phase), if any. */
  let corked: Redis['stream'] | undefined;
  const uncork = (): void => {
    const socket = corked;
    corked = undefined;
    socket?.uncork();
  };
  Object.defineProperty(redis, 'sendCommand', {
    configurable: true,
    writable: true,
    value: function sendCommand(this: R, ...args: Parameters<Redis['sendCommand']>): unknown {
      if (corked === undefined) {
        const socket = redis.stream as Redis['stream'] | undefined;
        if (socket?.writable) {
          socket.cork();
          corked = socket;
          setImmediate(uncork);
        }
      }
      return send.apply(this, args);
    },
  });
  return redis;
}
