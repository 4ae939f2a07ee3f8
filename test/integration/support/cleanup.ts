/**
 * Teardown in reverse order of setup, that keeps going when one step fails and reports
 * every failure at the end (so a broken gateway stop does not leak redis-server).
 */
export class Cleanup {
  readonly #steps: Array<{ name: string; fn: () => unknown }> = [];

  /** Registers `fn` to run at {@link Cleanup.run}. */
  add(name: string, fn: () => unknown): void {
    this.#steps.push({ name, fn });
  }

  /** Runs every registered step, last first; throws an AggregateError if any failed. */
  async run(): Promise<void> {
    const errors: Error[] = [];
    while (this.#steps.length > 0) {
      const step = this.#steps.pop()!;
      try {
        await step.fn();
      } catch (err) {
        errors.push(new Error(`cleanup "${step.name}" failed: ${(err as Error).message}`));
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, errors.map((e) => e.message).join('; '));
  }
}
