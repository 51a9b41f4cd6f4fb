// The tunnel multiplexer over a real WebSocket on localhost: many streams at once, both directions,
// half-close, resets, credit-based flow control that stalls only the slow stream, and the end of
// the connection failing every stream.
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { encodeFrame, FrameType, INITIAL_WINDOW_BYTES, MAX_FRAME_PAYLOAD } from '../../../shared/tunnel/frames.js';
import { sessionOverWebSocket, type TunnelSession } from '../../../shared/tunnel/session.js';
import type { TunnelStream } from '../../../shared/tunnel/stream.js';

interface Pair {
  server: TunnelSession;
  client: TunnelSession;
  accepted: TunnelStream[];
  clientSocket: WebSocket;
  close(): Promise<void>;
}

const open: Pair[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close()));
});

/** A session pair: `server` accepted the WebSocket; streams it opens arrive in `accepted` on the client end. */
async function pair(onClientStream?: (s: TunnelStream) => void): Promise<Pair> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  const serverWs = new Promise<WebSocket>((r) => wss.once('connection', r));
  const clientSocket = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  const accepted: TunnelStream[] = [];
  const client = sessionOverWebSocket(clientSocket, {
    dialer: true,
    onStream: (s) => {
      s.on('error', () => {}); // tests look at errors where they expect them
      if (onClientStream) onClientStream(s);
      else accepted.push(s);
    },
  });
  await new Promise((r) => clientSocket.once('open', r));
  const server = sessionOverWebSocket(await serverWs, { dialer: false });
  const p: Pair = {
    server,
    client,
    accepted,
    clientSocket,
    async close() {
      client.close();
      server.close();
      await new Promise((r) => wss.close(r));
    },
  };
  open.push(p);
  return p;
}

const echo = (s: TunnelStream) => s.pipe(s);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function collect(s: TunnelStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.once('end', () => resolve(Buffer.concat(chunks)));
    s.once('error', reject);
  });
}

const until = async (check: () => boolean, what: string, ms = 5_000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('tunnel session', () => {
  it('carries 200 concurrent streams both ways without mixing their bytes', async () => {
    const p = await pair(echo);
    const payloads = Array.from({ length: 200 }, () => randomBytes(50_000 + Math.floor(Math.random() * 100_000)));
    const results = await Promise.all(
      payloads.map(async (payload) => {
        const s = p.server.open();
        const got = collect(s);
        s.end(payload);
        return got;
      }),
    );
    results.forEach((r, i) => expect(sha(r)).toBe(sha(payloads[i])));
    await until(() => p.server.streamCount === 0 && p.client.streamCount === 0, 'streams to be released');
  });

  it('keeps the other direction open after one side ends (half-close)', async () => {
    const p = await pair();
    const s = p.server.open();
    await until(() => p.accepted.length === 1, 'the stream to arrive');
    const remote = p.accepted[0];
    const remoteGot = collect(remote);
    s.end('request');
    expect((await remoteGot).toString()).toBe('request');
    const reply = collect(s);
    remote.write('late ');
    remote.end('reply');
    expect((await reply).toString()).toBe('late reply');
  });

  it('stalls only the stream whose reader stopped, with at most one window buffered', async () => {
    const p = await pair();
    const slow = p.server.open();
    slow.on('error', () => {});
    await until(() => p.accepted.length === 1, 'the slow stream');
    const slowRemote = p.accepted[0];
    slowRemote.pause();
    const big = randomBytes(8 * 1024 * 1024);
    let writeDone = false;
    slow.end(big, () => (writeDone = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(writeDone).toBe(false);
    expect(slowRemote.readableLength).toBeLessThanOrEqual(INITIAL_WINDOW_BYTES);

    // Another stream on the same tunnel is not held up.
    const fast = p.server.open();
    await until(() => p.accepted.length === 2, 'the fast stream');
    echo(p.accepted[1]);
    const started = Date.now();
    const fastGot = collect(fast);
    fast.end('ping');
    expect((await fastGot).toString()).toBe('ping');
    expect(Date.now() - started).toBeLessThan(1_000);

    const all = collect(slowRemote);
    slowRemote.resume();
    expect(sha(await all)).toBe(sha(big));
    await until(() => writeDone, 'the writer to finish');
  });

  it('resets the peer when one end destroys its stream, and forgets it on both ends', async () => {
    const p = await pair();
    const s = p.server.open();
    s.on('error', () => {});
    await until(() => p.accepted.length === 1, 'the stream');
    const failed = new Promise<Error>((r) => p.accepted[0].once('error', r));
    s.destroy(new Error('client went away'));
    const err = await failed;
    expect(err.message).toContain('client went away');
    expect((err as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    await until(() => p.server.streamCount === 0 && p.client.streamCount === 0, 'streams to be released');
  });

  it('fails every stream when the connection drops, and refuses new ones', async () => {
    const p = await pair();
    const streams = [p.server.open(), p.server.open(), p.server.open()];
    const errs = streams.map((s) => new Promise<Error>((r) => s.once('error', r)));
    p.clientSocket.terminate();
    for (const e of await Promise.all(errs)) expect(e.message).toMatch(/tunnel closed/);
    await until(() => p.server.closed, 'the server session to notice');
    expect(() => p.server.open()).toThrow(/tunnel closed/);
  });

  it('resets a stream whose sender ignores its credit', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    const serverWs = new Promise<WebSocket>((r) => wss.once('connection', r));
    const raw = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    await new Promise((r) => raw.once('open', r));
    const accepted: TunnelStream[] = [];
    const session = sessionOverWebSocket(await serverWs, { dialer: false, onStream: (s) => accepted.push(s) });
    const frames: Buffer[] = [];
    raw.on('message', (m) => frames.push(m as Buffer));
    raw.send(encodeFrame(FrameType.OPEN, 1));
    await until(() => accepted.length === 1, 'the stream');
    accepted[0].pause();
    const failed = new Promise<Error>((r) => accepted[0].once('error', r));
    const chunk = Buffer.alloc(MAX_FRAME_PAYLOAD);
    for (let sent = 0; sent <= INITIAL_WINDOW_BYTES; sent += chunk.length) raw.send(encodeFrame(FrameType.DATA, 1, chunk));
    expect((await failed).message).toMatch(/flow control violation/);
    await until(() => frames.some((f) => f[0] === FrameType.RESET), 'a RESET frame to the sender');
    session.close();
    raw.terminate();
    await new Promise((r) => wss.close(r));
  });

  it('closes the connection on a malformed frame', async () => {
    const p = await pair();
    const closed = new Promise<number>((r) => p.clientSocket.once('close', (code) => r(code)));
    p.clientSocket.send(Buffer.from([9, 0, 0, 0, 1]));
    expect(await closed).toBe(1002);
  });
});
