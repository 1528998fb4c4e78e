// A loopback TCP port that was free a moment ago: bound on port 0, then closed. For a server the
// test starts later on that port, or for a URL that must refuse connections (nothing listens).
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
