// A multiplexing session: many TunnelStreams over one message channel (in practice a WebSocket).
// Either end may open streams; the end that dialled the connection uses odd stream ids, the end
// that accepted it even ones, so ids never collide. The session also holds back writers while the
// channel itself has too many unsent bytes, so a slow link bounds memory across all streams.
import type { WebSocket } from 'ws';
import { decodeFrame, encodeFrame, FrameType } from './frames.js';
import { TunnelStream, type StreamSink } from './stream.js';

/** The message channel a session runs on. */
export interface FrameChannel {
  /** Send one binary message; `sent` runs once it left the process (or failed). */
  send(message: Buffer, sent: () => void): void;
  close(code: number, reason: string): void;
  /** False once the channel started closing (no new streams should go to it). */
  isOpen?(): boolean;
}

export interface SessionOptions {
  /** True on the end that opened the connection (odd stream ids). */
  dialer: boolean;
  /** Called with every stream the peer opens. */
  onStream?: (stream: TunnelStream) => void;
  /** Unsent channel bytes above which writers wait (default 4 MiB). */
  highWaterBytes?: number;
}

export class TunnelSession {
  private readonly streams = new Map<number, TunnelStream>();
  private nextId: number;
  private unsentBytes = 0;
  private readonly highWater: number;
  private waiters: (() => void)[] = [];
  private closedReason: string | undefined;

  constructor(
    private readonly channel: FrameChannel,
    private readonly opts: SessionOptions,
  ) {
    this.nextId = opts.dialer ? 1 : 2;
    this.highWater = opts.highWaterBytes ?? 4 * 1024 * 1024;
  }

  /** True once the channel is closing or closed. */
  get closed(): boolean {
    return this.closedReason !== undefined || this.channel.isOpen?.() === false;
  }

  get streamCount(): number {
    return this.streams.size;
  }

  /** Open a new stream to the peer. */
  open(): TunnelStream {
    if (this.closed) throw Object.assign(new Error(`tunnel closed: ${this.closedReason ?? 'closing'}`), { code: 'ECONNRESET' });
    const id = this.nextId;
    this.nextId += 2;
    if (this.nextId > 0xffffffff) this.nextId = this.opts.dialer ? 1 : 2;
    const stream = this.track(id);
    this.send(encodeFrame(FrameType.OPEN, id));
    return stream;
  }

  /** Feed one message received from the channel. */
  receive(message: Buffer): void {
    const frame = decodeFrame(message);
    if (typeof frame === 'string') {
      this.close(`protocol error: ${frame}`, 1002);
      return;
    }
    const { type, streamId, payload } = frame;
    if (type === FrameType.OPEN) {
      if (this.streams.has(streamId) || this.isOurs(streamId)) {
        this.send(encodeFrame(FrameType.RESET, streamId, Buffer.from('stream id already in use')));
        return;
      }
      const stream = this.track(streamId);
      if (this.opts.onStream) this.opts.onStream(stream);
      else stream.reset('this end accepts no streams');
      return;
    }
    const stream = this.streams.get(streamId);
    if (!stream) return; // frames racing a reset or a finished stream
    switch (type) {
      case FrameType.DATA:
        stream.receiveData(payload);
        break;
      case FrameType.WINDOW:
        stream.receiveWindow(payload.readUInt32BE(0));
        break;
      case FrameType.FIN:
        stream.receiveFin();
        break;
      case FrameType.RESET:
        stream.receiveReset(payload.toString('utf8'));
        break;
    }
  }

  /** The channel is gone (or closing): every stream fails. */
  terminate(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    const err = () => Object.assign(new Error(`tunnel closed: ${reason}`), { code: 'ECONNRESET' });
    for (const stream of [...this.streams.values()]) {
      stream.abandon(err());
    }
    this.streams.clear();
    this.wake();
  }

  /** Close the channel and fail every stream. */
  close(reason = 'closed', code = 1000): void {
    if (this.closedReason === undefined) this.channel.close(code, reason.slice(0, 120));
    this.terminate(reason);
  }

  private isOurs(id: number): boolean {
    return (id % 2 === 1) === this.opts.dialer;
  }

  private track(id: number): TunnelStream {
    const sink: StreamSink = {
      send: (frame) => this.send(frame),
      canSend: () => this.unsentBytes < this.highWater || this.closedReason !== undefined,
      onceSendable: (resume) => this.waiters.push(resume),
      release: (streamId) => {
        if (this.streams.get(streamId) === stream) this.streams.delete(streamId);
      },
    };
    const stream = new TunnelStream(id, sink);
    this.streams.set(id, stream);
    return stream;
  }

  private send(frame: Buffer): void {
    if (this.closedReason !== undefined) return;
    this.unsentBytes += frame.length;
    this.channel.send(frame, () => {
      this.unsentBytes -= frame.length;
      if (this.unsentBytes < this.highWater / 2) this.wake();
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resume of waiters) resume();
  }
}

/** A session on an open WebSocket: messages in, frames out, and termination when it closes. */
export function sessionOverWebSocket(ws: WebSocket, opts: SessionOptions): TunnelSession {
  const session = new TunnelSession(
    {
      send: (message, sent) => ws.send(message, { binary: true }, () => sent()),
      isOpen: () => ws.readyState === ws.OPEN,
      close: (code, reason) => {
        ws.close(code, reason);
        // A peer that does not finish the closing handshake promptly is cut off.
        setTimeout(() => ws.terminate(), 2_000).unref();
      },
    },
    opts,
  );
  ws.on('message', (data, isBinary) => {
    if (!isBinary) return session.close('protocol error: text message', 1003);
    session.receive(Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data));
  });
  ws.on('close', (code, reason) => session.terminate(`connection closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`));
  ws.on('error', (err) => session.terminate(err.message));
  return session;
}
