/**
 * Who is who, computed the same way in every thread from the scenario alone: client `i`
 * (0 ≤ i < accounts.count) is account `<prefix><i>`, occupant `i mod occupantsPerRoom` of
 * room `⌊i / occupantsPerRoom⌋` (clients past rooms × occupants join no room), a sender when
 * its position is below `sendersPerRoom` and its room is one of the `sendingRooms` (spread
 * evenly, {@link Layout.roomSends}), connects to `targets[i mod T]` and lives in worker
 * thread `i mod W`. Position 0 of each room is its owner (joins first).
 */
import type { Scenario } from './scenario.js';

/** The scenario's clients, rooms and senders, and where each client lives. */
export class Layout {
  readonly clients: number;
  readonly rooms: number;
  readonly occupantsPerRoom: number;
  readonly sendersPerRoom: number;
  /** Rooms that have senders (`messages.sendingRooms`, default every room). */
  readonly sendingRooms: number;
  readonly workers: number;
  readonly runId: string;
  readonly #scenario: Scenario;
  readonly #targets: readonly string[];

  constructor(scenario: Scenario, targets: readonly string[], workers: number, runId: string) {
    this.#scenario = scenario;
    this.#targets = targets;
    this.clients = scenario.accounts.count;
    this.rooms = scenario.rooms.count;
    this.occupantsPerRoom = scenario.rooms.occupantsPerRoom;
    this.sendersPerRoom = scenario.messages.sendersPerRoom;
    this.sendingRooms = Math.min(scenario.messages.sendingRooms ?? this.rooms, this.rooms);
    this.workers = workers;
    this.runId = runId;
  }

  /** Room index of client `i`, or -1 when it joins no room. */
  roomOf(i: number): number {
    return i < this.rooms * this.occupantsPerRoom ? Math.floor(i / this.occupantsPerRoom) : -1;
  }

  /** Position of client `i` in its room (0 = owner). */
  positionOf(i: number): number {
    return i % this.occupantsPerRoom;
  }

  /**
   * Whether room `r` (0 ≤ r < rooms) has senders: `sendingRooms` of the rooms, spread evenly
   * (room r when ⌊(r+1)·sendingRooms / rooms⌋ > ⌊r·sendingRooms / rooms⌋; every room when
   * sendingRooms = rooms). False for r outside 0..rooms-1.
   */
  roomSends(r: number): boolean {
    if (r < 0 || r >= this.rooms) return false;
    return Math.floor(((r + 1) * this.sendingRooms) / this.rooms) > Math.floor((r * this.sendingRooms) / this.rooms);
  }

  /** Whether client `i` sends: a low enough position in a room that has senders. */
  isSender(i: number): boolean {
    return this.positionOf(i) < this.sendersPerRoom && this.roomSends(this.roomOf(i));
  }

  /**
   * Whether client `i` drops and resumes its stream (XEP-0198): ⌊count × share⌋ clients,
   * spread evenly (client i is one when ⌊(i+1)·share⌋ > ⌊i·share⌋).
   */
  isResumer(i: number): boolean {
    const share = this.#scenario.resume.share;
    return share > 0 && Math.floor((i + 1) * share) > Math.floor(i * share);
  }

  /** The account's localpart. */
  username(i: number): string {
    return `${this.#scenario.accounts.prefix}${i}`;
  }

  /** The occupant's nickname. */
  nick(i: number): string {
    return `n${i}`;
  }

  /** Bare JID of room `r`. */
  roomJid(r: number): string {
    const fresh = this.#scenario.rooms.fresh ? `-${this.runId}` : '';
    return `${this.#scenario.rooms.namePrefix}${r}${fresh}@${this.#scenario.mucService}`;
  }

  /** `host:port` client `i` connects to. */
  targetOf(i: number): string {
    return this.#targets[i % this.#targets.length]!;
  }

  workerOf(i: number): number {
    return i % this.workers;
  }

  /** Client indexes of worker `w`, ascending. */
  clientsOfWorker(w: number): number[] {
    const out: number[] = [];
    for (let i = w; i < this.clients; i += this.workers) out.push(i);
    return out;
  }
}
