/**
 * A database opened with the wrong key, as the page tells it (client/ui/lock-screen.tsx). Apart
 * from database.ts so the page's bundle does not take RxDB and its plugins with it: the page
 * never opens the database (the database worker does), and they were loaded and run at every
 * app start before the worker was even made.
 */

/**
 * The database exists on this device but was created with another key (a wrong key, or a copy
 * made before the device had one). The name survives structured cloning, so the page can tell
 * it apart from other failures after the error crossed from the database worker.
 */
export class WrongDatabaseKeyError extends Error {
  constructor(message = 'The data on this device is locked with a different key.') {
    super(message);
    this.name = 'WrongDatabaseKeyError';
  }
}

export const isWrongDatabaseKey = (error: unknown): boolean =>
  (error as { name?: unknown } | undefined)?.name === 'WrongDatabaseKeyError';
