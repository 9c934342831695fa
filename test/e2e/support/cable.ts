import net from 'node:net';

/**
 * A "network cable" between one browser and the server: a TCP proxy on its own fixed port.
 * Cutting it refuses new connections and destroys open ones; restoring listens again on the
 * same port, so the browser's origin (and with it its service worker and IndexedDB) stays the
 * same. `setOffline` alone leaks requests (shared/reference/browser-testing.md), this does not.
 */
export interface Cable {
  origin: string;
  port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function createCable(port: number, upstreamPort: number): Promise<Cable> {
  let listener: net.Server | null = null;
  const open = new Set<net.Socket>();
  const listen = () => new Promise<void>((resolve, reject) => {
    const server = net.createServer((client) => {
      const upstream = net.connect(upstreamPort, '127.0.0.1');
      const pair = [client, upstream];
      const drop = () => pair.forEach((s) => { s.destroy(); open.delete(s); });
      pair.forEach((s) => { open.add(s); s.on('error', drop); s.on('close', drop); });
      client.pipe(upstream);
      upstream.pipe(client);
    });
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      listener = server;
      resolve();
    });
  });
  await listen();
  const cut = async () => {
    if (!listener) return;
    const closing = listener;
    listener = null;
    const closed = new Promise<void>((resolve) => closing.close(() => resolve()));
    open.forEach((s) => s.destroy());
    await closed;
  };
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    cut,
    async restore() {
      if (!listener) await listen();
    },
    close: cut,
  };
}
