/** Binds an Iec104Link to a TCP socket: bytes in, bytes out, close both ways. */
import net from 'net';
import { Iec104Link, LinkOptions, LinkRole } from './link';

export function linkOverSocket(role: LinkRole, socket: net.Socket, options: LinkOptions, name: string): Iec104Link {
  socket.setNoDelay(true);
  const link = new Iec104Link(
    role,
    {
      write: (bytes) => {
        if (!socket.destroyed) socket.write(bytes);
      },
      close: () => socket.destroy(),
    },
    options,
    name,
  );
  socket.on('data', (chunk: Buffer) => link.receive(chunk));
  socket.on('error', (err) => link.connectionLost(`socket error: ${err.message}`));
  socket.on('close', () => link.connectionLost('connection closed by peer'));
  return link;
}
