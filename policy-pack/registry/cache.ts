/**
 * A process-lifetime map from key to promise. Concurrent callers for the same key share one in-flight
 * load, so 5,000 resources naming 100 images cost 100 images' worth of requests. A failed load is
 * forgotten, so a later call may try again; a successful one is kept for the client's life.
 */
export class InflightCache<T> {
  private readonly entries = new Map<string, Promise<T>>();
  hits = 0;

  get(key: string, load: () => Promise<T>): Promise<T> {
    const existing = this.entries.get(key);
    if (existing) {
      this.hits++;
      return existing;
    }
    const loading = load();
    this.entries.set(key, loading);
    loading.catch(() => {
      if (this.entries.get(key) === loading) this.entries.delete(key);
    });
    return loading;
  }

  /** Seeds a value already known (e.g. a manifest fetched by tag is cached under its digest). */
  set(key: string, value: T): void {
    if (!this.entries.has(key)) this.entries.set(key, Promise.resolve(value));
  }
}
