// A raw HTTP/1.1 client over node:net for the plain-HTTP suite: it writes exactly the bytes it
// is given (smuggling-shaped requests included) and reads responses itself, one after another
// on the same socket, framed by Content-Length, chunked coding or the connection's end.
import net from 'node:net';
import { HOST, within } from './raw-client.ts';

export interface HttpResponse {
  status: number;
  statusLine: string;
  /** Lower-case names; repeated fields joined with `, `. */
  headers: Map<string, string>;
  body: Buffer;
  /** The raw head, for assertions on framing fields. */
  head: string;
}

export class HttpConnection {
  readonly socket: net.Socket;
  #buffer = Buffer.alloc(0);
  #ended = false;
  #wake: (() => void) | null = null;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#notify();
    });
    socket.on('end', () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on('close', () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on('error', () => {});
  }

  static async open(port: number): Promise<HttpConnection> {
    const socket = net.connect(port, HOST);
    await within(
      new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject)),
      10_000,
      'connect',
    );
    return new HttpConnection(socket);
  }

  write(data: string | Uint8Array): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  async #more(): Promise<void> {
    if (this.#ended)
      throw new Error(`the connection ended; unread: ${JSON.stringify(this.#buffer.toString('latin1'))}`);
    await new Promise<void>((resolve) => (this.#wake = resolve));
  }

  /** The server closed its side (EOF) and nothing more is unread. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Resolves once the server has closed the connection. */
  async waitEnd(ms = 10_000): Promise<void> {
    await within(
      (async () => {
        while (!this.#ended) await new Promise<void>((resolve) => (this.#wake = resolve));
      })(),
      ms,
      'the server closing the connection',
    );
  }

  /** Reads one response; `method` HEAD (or 1xx/204/304) has no body. */
  async read(method = 'GET', ms = 10_000): Promise<HttpResponse> {
    return within(this.#read(method), ms, 'an HTTP response');
  }

  async #read(method: string): Promise<HttpResponse> {
    let end: number;
    while ((end = this.#buffer.indexOf('\r\n\r\n')) === -1) await this.#more();
    const head = this.#buffer.subarray(0, end).toString('latin1');
    this.#buffer = this.#buffer.subarray(end + 4);
    const [statusLine, ...lines] = head.split('\r\n');
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
    }
    const status = Number(statusLine!.split(' ')[1]);
    let body = Buffer.alloc(0);
    if (method === 'HEAD' || status < 200 || status === 204 || status === 304) {
      // no body
    } else if (headers.has('content-length')) {
      const length = Number(headers.get('content-length'));
      while (this.#buffer.length < length) await this.#more();
      body = this.#buffer.subarray(0, length);
      this.#buffer = this.#buffer.subarray(length);
    } else if (headers.get('transfer-encoding')?.toLowerCase() === 'chunked') {
      const parts: Buffer[] = [];
      for (;;) {
        let lineEnd: number;
        while ((lineEnd = this.#buffer.indexOf('\r\n')) === -1) await this.#more();
        const size = parseInt(this.#buffer.subarray(0, lineEnd).toString('latin1'), 16);
        this.#buffer = this.#buffer.subarray(lineEnd + 2);
        if (size === 0) {
          // Trailer lines (ignored) up to the empty line.
          for (;;) {
            let trailerEnd: number;
            while ((trailerEnd = this.#buffer.indexOf('\r\n')) === -1) await this.#more();
            this.#buffer = this.#buffer.subarray(trailerEnd + 2);
            if (trailerEnd === 0) break;
          }
          break;
        }
        while (this.#buffer.length < size + 2) await this.#more();
        parts.push(this.#buffer.subarray(0, size));
        this.#buffer = this.#buffer.subarray(size + 2);
      }
      body = Buffer.concat(parts);
    } else {
      while (!this.#ended) await new Promise<void>((resolve) => (this.#wake = resolve));
      body = this.#buffer;
      this.#buffer = Buffer.alloc(0);
    }
    return { status, statusLine: statusLine!, headers, body, head };
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** One request on a fresh connection: write `request`, read the response, close. */
export async function rawRequest(
  port: number,
  request: string,
  method = 'GET',
): Promise<HttpResponse & { closed: boolean }> {
  const connection = await HttpConnection.open(port);
  try {
    connection.write(request);
    const response = await connection.read(method);
    return { ...response, closed: connection.ended };
  } finally {
    connection.destroy();
  }
}
