// A TCP relay between a browser page and hq-server on loopback, whose
// connections can be cut (what a Wi-Fi drop does to the page's WebSocket
// and requests) and then let through again.  Chromium's own "offline"
// switch (playwright's context.setOffline) leaves an open WebSocket
// alone, so the web tests cut the network here instead.  Media goes
// straight to the server over UDP (ICE) and is not touched.
import net from 'node:net';

export async function tcpRelay(target) {
  const { hostname, port } = new URL(target);
  const open = new Set();
  let cut = false;
  const server = net.createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(port), hostname);
    for (const [a, b] of [[client, upstream], [upstream, client]]) {
      a.pipe(b);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        b.destroy();
        open.delete(a);
      });
      open.add(a);
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    // Drops every connection at once (no close handshake: the other end
    // sees the connection gone) and refuses new ones until restore().
    cut() {
      cut = true;
      for (const s of open) s.resetAndDestroy();
      open.clear();
    },
    restore() {
      cut = false;
    },
    close() {
      this.cut();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
