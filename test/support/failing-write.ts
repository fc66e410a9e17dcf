// A fault injected inside IndexedDB for atomicity tests: the `nth` row a
// transaction puts into the 'memories' store becomes an add of an existing
// key, so IndexedDB fails the write half-way and the transaction aborts.

/** Runs `run` with that fault in place, and removes it afterwards. */
export async function failingWrite<T>(nth: number, run: () => Promise<T>): Promise<T> {
  const put = IDBObjectStore.prototype.put;
  let puts = 0;
  IDBObjectStore.prototype.put = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
    return this.name === 'memories' && ++puts === nth ? this.add(value) : put.call(this, value, key);
  };
  try {
    return await run();
  } finally {
    IDBObjectStore.prototype.put = put;
  }
}
