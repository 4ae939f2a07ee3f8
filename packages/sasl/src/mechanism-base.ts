// RFC 4422 §3 / RFC 6120 §6.4: the life cycle every mechanism shares. An exchange starts
// once, takes one client message at a time, and ends at the first success or failure;
// `<abort/>` ends it at any point (RFC 6120 §6.4.4).

import { ExchangeFailure, type SaslFailureCondition } from './errors.js';
import type { SaslStep, ServerMechanism } from './server-mechanism.js';

type Phase = 'new' | 'waiting' | 'busy' | 'done';

function failure(condition: SaslFailureCondition, text?: string): SaslStep {
  return text === undefined ? { kind: 'failure', condition } : { kind: 'failure', condition, text };
}

/** Shared state handling; subclasses implement `receive` for each client message. */
export abstract class MechanismBase implements ServerMechanism {
  abstract readonly name: string;
  #phase: Phase = 'new';
  #authcid: string | undefined;

  /** See {@link ServerMechanism.authcid}. */
  get authcid(): string | undefined {
    return this.#authcid;
  }

  /** Subclasses record the client's authentication identity here as soon as they have parsed it. */
  protected recordAuthcid(authcid: string): void {
    this.#authcid = authcid;
  }

  /**
   * Handles one non-absent client message. Throws `ExchangeFailure` to fail the exchange;
   * returning a challenge keeps it going, a success or failure ends it.
   */
  protected abstract receive(data: Buffer): Promise<SaslStep>;

  async start(initial: Buffer | undefined): Promise<SaslStep> {
    if (this.#phase !== 'new') return this.#end(failure('malformed-request', 'exchange already started'));
    if (initial === undefined) {
      // RFC 6120 §6.4.2: no initial response, so the server sends an empty challenge.
      this.#phase = 'waiting';
      return { kind: 'challenge', data: Buffer.alloc(0) };
    }
    return this.#run(initial);
  }

  async step(response: Buffer): Promise<SaslStep> {
    if (this.#phase !== 'waiting') return this.#end(failure('malformed-request', 'no response expected'));
    return this.#run(response);
  }

  abort(): SaslStep {
    return this.#end(failure('aborted'));
  }

  #end(step: SaslStep): SaslStep {
    this.#phase = 'done';
    return step;
  }

  async #run(data: Buffer): Promise<SaslStep> {
    this.#phase = 'busy';
    let step: SaslStep;
    try {
      step = await this.receive(data);
    } catch (err) {
      this.#phase = 'done';
      if (err instanceof ExchangeFailure) return failure(err.condition, err.text);
      throw err;
    }
    // Aborted, or another call came in, while the backend was being asked.
    if (this.#phase !== 'busy') return failure('aborted');
    this.#phase = step.kind === 'challenge' ? 'waiting' : 'done';
    return step;
  }
}
