/// <reference lib="webworker" />
/**
 * Coverage return: a request the service worker sent before the device went offline (or while it
 * was) is given up once the network is back, and sent again at once, instead of holding the
 * queue until its own time limit. One watcher for every request the queue sends: a push
 * (delivery.ts) and each request of an attachment upload (fetch-http-stack.ts, for
 * attachment-upload.ts).
 *
 * Why: a request sent into a link that went away is not always failed by the browser. When the
 * link drops with no address change (an IPv4-only link, a tablet driving out of coverage and
 * back), Chromium keeps its connections: the request's bytes sit in TCP retransmits, no reset
 * comes, and the request waits for the retransmission backoff to reach the server (seconds) or, if
 * its answer was lost with the link, its whole time limit (10 s and more; 138 s for a 2 MiB chunk
 * of a photo), while the queue has work and the network is back (bench:browser's shift backlog
 * with `--link-ipv6=off`: the first ePCR 3.4-5.0 s after the link came up, 0.11-0.26 s with this).
 * Such a request can not be told from a slow one while it waits, but once the device has been
 * offline in between it has nothing left to wait for: it is aborted and sent again at once on the
 * connections the network has now. That is always safe: a push is idempotent per row and revision
 * (one that did reach the server is answered "already stored" the second time and its rows are
 * removed from the queue once, when that answer comes), and an upload goes on from the offset the
 * server confirms (tus HEAD), so bytes the server took are not sent twice, and the attachment is
 * stored once, at its last byte.
 */

/** The abort reason of a request given up because coverage returned after it was sent. */
export const COVERAGE_RETURNED = new Error('sent before the network went away; sent again now that it is back');

/**
 * How long the browser's network state may lag the link. Chromium on Linux announces a change 0.5 s
 * after the last link change and 2 s after the last address change
 * (`NetworkChangeCalculatorParamsLinux`; going online was seen ~1.5 s late under load).
 */
export const NETWORK_STATE_LAG_MS = 2500;

/** How often `navigator.onLine` is read while a request is on the wire (one property read). */
export const COVERAGE_CHECK_MS = 100;

/**
 * Calls `then` once the device is online again after having been offline at some point while a
 * request was on the wire (offline when it was sent, or offline since), and never otherwise.
 * Returns the function that stops watching (call it when the request ends, however it ends).
 *
 * `navigator.onLine` (the worker hears the browser's network state as pages do, at once) is read
 * on the `online`/`offline` events where the worker gets them, and every 100 ms while the request
 * travels, since events do not reach a service worker reliably. A device that stays "online"
 * throughout (a dead zone), or is offline for less than the worker's next look (100 ms, longer
 * on a busy tablet), is left to the request's time limit.
 *
 * A request sent while the browser still said "offline" and seen "online" within
 * `NETWORK_STATE_LAG_MS` of being sent may have gone out on a link that was already back (the
 * browser announces it late): it is left alone then, as if sent online, since aborting it would
 * send a push the server may already hold a second time (a full run at load 10-16 delivered one
 * push twice this way). Left alone costs little if it did go into the dead link: it is younger than
 * the lag, so TCP's next retransmission (its backoff doubles from 0.2 s) comes about as soon.
 */
export function onCoverageReturn(then: () => void): () => void {
  const scope = globalThis as { navigator?: { onLine?: unknown }; addEventListener?: EventTarget['addEventListener']; removeEventListener?: EventTarget['removeEventListener'] };
  const navigator = scope.navigator;
  if (typeof navigator?.onLine !== 'boolean') return () => undefined;
  const sentAt = Date.now();
  const sentOffline = !navigator.onLine;
  let wasOffline = sentOffline;
  let offlineAgain = false;
  const check = () => {
    if (!navigator.onLine) {
      if (!wasOffline) offlineAgain = true;
      wasOffline = true;
    } else if (wasOffline && sentOffline && !offlineAgain && Date.now() - sentAt < NETWORK_STATE_LAG_MS) {
      // Maybe sent on a link that was already back (see above): from here on, as one sent online.
      wasOffline = false;
    } else if (wasOffline) {
      stop();
      then();
    }
  };
  const interval = setInterval(check, COVERAGE_CHECK_MS);
  scope.addEventListener?.('online', check);
  scope.addEventListener?.('offline', check);
  const stop = () => {
    clearInterval(interval);
    scope.removeEventListener?.('online', check);
    scope.removeEventListener?.('offline', check);
  };
  return stop;
}

/** Aborts `controller` with `COVERAGE_RETURNED` when coverage returns (`onCoverageReturn`); returns the stop. */
export function abortOnCoverageReturn(controller: AbortController): () => void {
  return onCoverageReturn(() => controller.abort(COVERAGE_RETURNED));
}
