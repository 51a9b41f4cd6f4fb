// The client end of a SPDY/3.1 connection, enough to drive a kubelet-style streaming server (the
// container runtime's): open streams with headers, wait for their replies, send data and half-close.
// Like Go's spdystream, it neither enforces nor advertises flow-control windows.
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import {
  FLAG_FIN,
  FrameParser,
  FrameType,
  RstStatus,
  encodeData,
  encodeGoAway,
  encodePing,
  encodeRstStream,
  encodeSynStream,
  streamIdOf,
  type Frame,
} from './spdy-frames.js';
import { HeaderCompressor, HeaderDecompressor, type SpdyHeaders } from './spdy-headers.js';

const MAX_DATA_CHUNK = 32 * 1024;

/** One SPDY stream: emits 'data' (Buffer), 'end' (the peer half-closed or reset it). */
export class SpdyStream extends EventEmitter {
  private localClosed = false;
  private remoteClosed = false;
  replyHeaders: SpdyHeaders = {};

  constructor(
    readonly id: number,
    private readonly session: SpdyClientSession,
  ) {
    super();
  }

  /** False when the connection's buffer is full; wait for the session's 'drain'. */
  write(data: Buffer): boolean {
    if (this.localClosed || data.length === 0) return true;
    let ok = true;
    for (let off = 0; off < data.length; off += MAX_DATA_CHUNK) ok = this.session.send(encodeData(this.id, data.subarray(off, off + MAX_DATA_CHUNK)));
    return ok;
  }

  /** Half-close: tell the peer no more data follows. */
  end(): void {
    if (this.localClosed) return;
    this.localClosed = true;
    this.session.send(encodeData(this.id, Buffer.alloc(0), true));
  }

  reset(): void {
    if (this.localClosed && this.remoteClosed) return;
    this.localClosed = true;
    this.session.send(encodeRstStream(this.id, RstStatus.CANCEL));
    this.remoteEnd();
  }

  /** @internal */
  remoteData(data: Buffer): void {
    if (!this.remoteClosed && data.length) this.emit('data', data);
  }

  /** @internal */
  remoteEnd(): void {
    if (this.remoteClosed) return;
    this.remoteClosed = true;
    this.emit('end');
  }
}

interface PendingStream {
  stream: SpdyStream;
  resolve: (s: SpdyStream) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Emits 'close' once the connection is gone, and 'drain' when a full write buffer empties. */
export class SpdyClientSession extends EventEmitter {
  private readonly parser = new FrameParser();
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private readonly streams = new Map<number, SpdyStream>();
  private readonly pending = new Map<number, PendingStream>();
  private nextStreamId = 1;
  private inbound: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly socket: Duplex,
    head: Buffer = Buffer.alloc(0),
  ) {
    super();
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('drain', () => this.emit('drain'));
    socket.on('end', () => this.shutdown());
    socket.on('close', () => this.shutdown());
    socket.on('error', () => this.shutdown());
    if (head.length) this.receive(head);
  }

  /** Open a stream and wait until the server replies to it (spdystream drops data sent before that). */
  async openStream(headers: Record<string, string>, timeoutMs = 30_000): Promise<SpdyStream> {
    if (this.closed) throw new Error('SPDY connection is closed');
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const stream = new SpdyStream(id, this);
    this.streams.set(id, stream);
    const replied = new Promise<SpdyStream>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`timed out waiting for the reply to SPDY stream ${id}`));
      }, timeoutMs);
      this.pending.set(id, { stream, resolve, reject, timer });
    });
    const block = await this.compressor.compress(Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])));
    this.send(encodeSynStream(id, block));
    return replied;
  }

  /** @internal */
  send(frame: Buffer): boolean {
    if (this.closed || this.socket.destroyed) return true;
    return this.socket.write(frame);
  }

  /** Say goodbye and close the connection. */
  close(): void {
    if (this.closed) return;
    this.send(encodeGoAway(0));
    this.socket.end();
    this.shutdown();
  }

  private receive(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.parser.push(chunk);
    } catch {
      this.socket.destroy();
      return;
    }
    for (const frame of frames) {
      this.inbound = this.inbound
        .then(() => this.handle(frame))
        .catch(() => {
          this.socket.destroy();
        });
    }
  }

  private async handle(frame: Frame): Promise<void> {
    if (frame.kind === 'data') {
      const stream = this.streams.get(frame.streamId);
      if (!stream) return;
      stream.remoteData(frame.data);
      if (frame.flags & FLAG_FIN) stream.remoteEnd();
      return;
    }
    const { type, flags, payload } = frame;
    switch (type) {
      case FrameType.SYN_REPLY: {
        const id = streamIdOf(payload);
        const headers = await this.decompressor.decompress(payload.subarray(4));
        const p = this.pending.get(id);
        if (p) {
          this.pending.delete(id);
          clearTimeout(p.timer);
          p.stream.replyHeaders = headers;
          p.resolve(p.stream);
        }
        if (flags & FLAG_FIN) this.streams.get(id)?.remoteEnd();
        return;
      }
      case FrameType.HEADERS: {
        await this.decompressor.decompress(payload.subarray(4));
        if (flags & FLAG_FIN) this.streams.get(streamIdOf(payload))?.remoteEnd();
        return;
      }
      case FrameType.SYN_STREAM: {
        // The runtime never pushes streams to us; keep the compression context in step and refuse.
        await this.decompressor.decompress(payload.subarray(10));
        this.send(encodeRstStream(streamIdOf(payload), RstStatus.REFUSED_STREAM));
        return;
      }
      case FrameType.RST_STREAM: {
        const id = streamIdOf(payload);
        const p = this.pending.get(id);
        if (p) {
          this.pending.delete(id);
          clearTimeout(p.timer);
          p.reject(new Error(`SPDY stream ${id} was reset (status ${payload.readUInt32BE(4)})`));
        }
        this.streams.get(id)?.remoteEnd();
        return;
      }
      case FrameType.PING: {
        const pingId = payload.readUInt32BE(0);
        if (pingId % 2 === 0) this.send(encodePing(pingId)); // the server's ping: echo it
        return;
      }
      case FrameType.GOAWAY:
        // No new streams; existing ones finish on their own, and the server closes the connection.
        this.nextStreamId = Number.MAX_SAFE_INTEGER;
        return;
      default:
        return; // SETTINGS, WINDOW_UPDATE: nothing to do without flow control
    }
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    // Deliver what has already arrived before announcing the end.
    void this.inbound.finally(() => {
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error('SPDY connection closed'));
      }
      this.pending.clear();
      for (const s of this.streams.values()) s.remoteEnd();
      this.compressor.close();
      this.decompressor.close();
      // Let queued frames (a GOAWAY) go out, but do not wait long for the peer.
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 1000).unref();
      this.emit('close');
    });
  }
}
