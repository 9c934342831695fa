import type { CommitEvent } from './types.ts';

/**
 * Delivers commit events to listeners in commit order. A throwing listener is isolated: it must
 * not stop the others from hearing about a change that is already durable.
 */
export class CommitNotifier {
  private readonly listeners = new Set<(event: CommitEvent) => void>();

  constructor(private readonly onListenerError: (error: unknown) => void = (error) => {
    console.error('a commit listener failed; the change itself is committed', error);
  }) {}

  subscribe(listener: (event: CommitEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: CommitEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
