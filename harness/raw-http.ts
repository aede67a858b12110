/**
 * HTTP over a raw TCP socket, for sending what no HTTP client will: request targets like `//` or `%zz`, odd
 * methods, broken upgrade headers, a connection reset right after the request.
 */
import { connect } from 'node:net';

export interface RawAnswer {
  /** The status code of the first response line, or null when the host closed without one. */
  status: number | null;
  /** How the exchange ended: the host answered or closed, we timed out waiting, or we reset it ourselves. */
  ended: 'closed' | 'timeout' | 'reset';
}

/**
 * Sends `request` as is and reads until the host closes (or `timeoutMs`). With `reset`, the connection is reset
 * right after sending (RST, no FIN): the host must cope with a client that vanishes mid-answer.
 */
export function rawRequest(port: number, request: string | Buffer, options: { timeoutMs?: number; reset?: boolean } = {}): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (ended: RawAnswer['ended']): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const head = Buffer.concat(chunks).subarray(0, 64).toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      socket.destroy();
      resolve({ status: match ? Number(match[1]) : null, ended });
    };
    const timer = setTimeout(() => finish('timeout'), options.timeoutMs ?? 3000);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // The status is all we need: a kept-alive connection or an accepted upgrade would otherwise stay open.
      if (Buffer.concat(chunks).includes('\r\n\r\n')) finish('closed');
    });
    socket.on('error', () => finish('closed'));
    socket.on('close', () => finish('closed'));
    socket.on('connect', () => {
      socket.write(request);
      if (options.reset) {
        socket.resetAndDestroy();
        finish('reset');
      }
    });
  });
}

/** A GET-style request with the given method, target and extra header lines, closing after the answer. */
export function requestText(method: string, target: string, headers: Record<string, string> = {}): string {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  if (!('Connection' in headers)) lines.push('Connection: close');
  return lines.join('\r\n') + '\r\n\r\n';
}
