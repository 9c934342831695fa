import type { RxReplicationState } from 'rxdb/plugins/replication';

/**
 * RxDB retries a failed request forever and awaitInitialReplication() then never resolves: fail
 * on the first replication error instead, so a broken peer shows up as an error, not a hang.
 */
export async function awaitInitial(replication: Pick<RxReplicationState<any, any>, 'awaitInitialReplication' | 'error$'>): Promise<void> {
  let subscription: { unsubscribe(): void } | undefined;
  try {
    await Promise.race([
      replication.awaitInitialReplication(),
      new Promise<never>((_, reject) => {
        subscription = replication.error$.subscribe((error: unknown) => reject(error instanceof Error ? error : new Error(String(error))));
      }),
    ]);
  } finally {
    subscription?.unsubscribe();
  }
}
