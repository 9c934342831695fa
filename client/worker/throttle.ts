/** Runs `fn` at most once per `ms` (a number, or computed each time), never twice at once. */
export function throttle(fn: () => Promise<void> | void, ms: number | (() => number)): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = false;
  let again = false;
  const run = async () => {
    timer = undefined;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      await fn();
    } catch {
      // a failed refresh is retried on the next trigger
    } finally {
      running = false;
      if (again) {
        again = false;
        schedule();
      }
    }
  };
  const schedule = () => {
    timer ??= setTimeout(run, typeof ms === 'number' ? ms : ms());
  };
  return schedule;
}
