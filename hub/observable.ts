/** A current value plus change listeners: the shape every hub topic has. */
export class ObservableValue<T> {
  private current: T;
  private readonly listeners = new Set<(value: T) => void>();

  constructor(initial: T) {
    this.current = initial;
  }

  get value(): T {
    return this.current;
  }

  set(next: T): void {
    this.current = next;
    for (const listener of [...this.listeners]) listener(next);
  }

  /** Calls the listener with the current value at once, then on every change. */
  subscribe(listener: (value: T) => void): () => void {
    this.listeners.add(listener);
    listener(this.current);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }
}
