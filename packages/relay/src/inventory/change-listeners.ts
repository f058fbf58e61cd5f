/**
 * The `onChange` listeners of a store. Each is called on its own, after the change is committed,
 * never inside the caller's stack: a listener that throws or is slow cannot undo or delay a change.
 */
export class ChangeListeners {
  private readonly listeners = new Set<() => void>();

  add(listener: () => void): () => void {
    const entry = () => listener();
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  notify(): void {
    for (const listener of [...this.listeners]) {
      queueMicrotask(() => {
        try {
          listener();
        } catch {
          // A listener's own failure is its business (it reloads; the next change calls it again).
        }
      });
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
