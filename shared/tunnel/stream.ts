// One byte stream inside a tunnel, as a Duplex that also answers the few socket methods node:http
// calls on its connections (setTimeout, setNoDelay, setKeepAlive), so it can be handed to an
// http.Server with emit('connection') or returned from http.request's createConnection.
//
// Flow control is credit based: the sender may have at most the window's worth of bytes in flight
// that the receiver has not let its reader consume; the receiver grants more (WINDOW frames) as its
// reader drains the readable side. A stalled reader therefore stalls only its own stream, and a
// stream never buffers more than one window.
import { Duplex } from 'node:stream';
import { encodeFrame, FrameType, INITIAL_WINDOW_BYTES, MAX_FRAME_PAYLOAD, windowFrame } from './frames.js';

/** What a stream needs from its session. */
export interface StreamSink {
  send(frame: Buffer): void;
  /** Whether the underlying connection can take more bytes now. */
  canSend(): boolean;
  /** Calls `resume` once when the connection drained after canSend() said no. */
  onceSendable(resume: () => void): void;
  /** The stream is finished (both directions ended, or reset): forget it. */
  release(id: number): void;
}

interface PendingWrite {
  chunk: Buffer;
  offset: number;
  callback: (err?: Error | null) => void;
}

export class TunnelStream extends Duplex {
  readonly remoteAddress = 'tunnel';
  readonly remotePort = 0;
  private sendWindow = INITIAL_WINDOW_BYTES;
  /** Bytes the peer may still send before we grant more. */
  private receiveCredit = INITIAL_WINDOW_BYTES;
  private pending: PendingWrite | undefined;
  private waitingForSink = false;
  private peerReset = false;
  private sentFin = false;
  private receivedFin = false;
  private idleMs = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly id: number,
    private readonly sink: StreamSink,
  ) {
    super({ allowHalfOpen: true });
    this.once('close', () => {
      this.clearIdle();
      sink.release(id);
    });
  }

  // --- frames from the peer ---

  /** @internal */ receiveData(payload: Buffer): void {
    if (this.destroyed || this.receivedFin) return;
    if (payload.length > this.receiveCredit) {
      this.reset(`flow control violation: ${payload.length} bytes sent with ${this.receiveCredit} bytes of credit`);
      return;
    }
    this.receiveCredit -= payload.length;
    this.touch();
    this.push(payload);
    this.grantCredit();
  }

  /** @internal */ receiveWindow(bytes: number): void {
    this.sendWindow += bytes;
    this.flush();
  }

  /** @internal */ receiveFin(): void {
    if (this.receivedFin) return;
    this.receivedFin = true;
    this.push(null);
    this.releaseIfDone();
  }

  /** @internal */ receiveReset(reason: string): void {
    this.peerReset = true;
    this.destroy(Object.assign(new Error(reason ? `stream reset by peer: ${reason}` : 'stream reset by peer'), { code: 'ECONNRESET' }));
  }

  /** @internal The session is gone: fail without telling the peer. */ abandon(err: Error): void {
    this.peerReset = true;
    this.destroy(err);
  }

  /** Abort the stream in both directions, telling the peer why. */
  reset(reason: string): void {
    if (this.destroyed) return;
    this.destroy(Object.assign(new Error(reason), { code: 'ECONNRESET' }));
  }

  // --- Duplex implementation ---

  override _read(): void {
    this.grantCredit();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.pending = { chunk, offset: 0, callback };
    this.touch();
    this.flush();
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.sentFin = true;
    this.sink.send(encodeFrame(FrameType.FIN, this.id));
    callback();
    this.releaseIfDone();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    const finished = this.sentFin && this.receivedFin;
    if (!this.peerReset && !finished) this.sink.send(encodeFrame(FrameType.RESET, this.id, Buffer.from(err?.message ?? 'closed', 'utf8')));
    const pending = this.pending;
    this.pending = undefined;
    pending?.callback(err ?? new Error('stream closed'));
    callback(err);
  }

  // --- socket-like methods node:http uses ---

  setTimeout(ms: number, onTimeout?: () => void): this {
    if (onTimeout) this.once('timeout', onTimeout);
    this.clearIdle();
    this.idleMs = ms;
    this.touch();
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  // --- internals ---

  private flush(): void {
    while (this.pending && !this.destroyed) {
      if (this.sendWindow <= 0) return; // resumed by receiveWindow
      if (!this.sink.canSend()) {
        if (!this.waitingForSink) {
          this.waitingForSink = true;
          this.sink.onceSendable(() => {
            this.waitingForSink = false;
            this.flush();
          });
        }
        return;
      }
      const { chunk, offset } = this.pending;
      const n = Math.min(chunk.length - offset, this.sendWindow, MAX_FRAME_PAYLOAD);
      this.sink.send(encodeFrame(FrameType.DATA, this.id, chunk.subarray(offset, offset + n)));
      this.sendWindow -= n;
      this.pending.offset += n;
      if (this.pending.offset >= chunk.length) {
        const { callback } = this.pending;
        this.pending = undefined;
        callback();
      }
    }
  }

  /** Top the peer's credit back up to a full window once the reader consumed half of it. */
  private grantCredit(): void {
    if (this.destroyed || this.receivedFin) return;
    const grant = INITIAL_WINDOW_BYTES - this.receiveCredit - this.readableLength;
    if (grant >= INITIAL_WINDOW_BYTES / 2) {
      this.receiveCredit += grant;
      this.sink.send(windowFrame(this.id, grant));
    }
  }

  private releaseIfDone(): void {
    if (this.sentFin && this.receivedFin) this.sink.release(this.id);
  }

  private touch(): void {
    if (!this.idleMs) return this.clearIdle();
    if (this.idleTimer) this.idleTimer.refresh();
    else {
      this.idleTimer = setTimeout(() => this.emit('timeout'), this.idleMs);
      this.idleTimer.unref();
    }
  }

  private clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }
}
