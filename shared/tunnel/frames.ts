// The tunnel's wire format: every WebSocket binary message is one frame,
//   [type: u8][streamId: u32 big-endian][payload]
// OPEN starts a stream, DATA carries its bytes, WINDOW grants the sender more credit (payload: u32
// byte count), FIN ends one direction, RESET aborts both (payload: UTF-8 reason).
export const FrameType = { OPEN: 1, DATA: 2, WINDOW: 3, FIN: 4, RESET: 5 } as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export const HEADER_BYTES = 5;
/** Bytes a receiver accepts per stream before it has granted more credit. */
export const INITIAL_WINDOW_BYTES = 256 * 1024;
/** Largest DATA payload one frame carries. */
export const MAX_FRAME_PAYLOAD = 32 * 1024;

export interface Frame {
  type: FrameType;
  streamId: number;
  payload: Buffer;
}

export function encodeFrame(type: FrameType, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  frame.writeUInt8(type, 0);
  frame.writeUInt32BE(streamId, 1);
  payload.copy(frame, HEADER_BYTES);
  return frame;
}

export const windowFrame = (streamId: number, bytes: number): Buffer => {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(bytes, 0);
  return encodeFrame(FrameType.WINDOW, streamId, payload);
};

const KNOWN_TYPES = new Set<number>(Object.values(FrameType));

/** The frame in `buf`, or an error message when it is malformed. */
export function decodeFrame(buf: Buffer): Frame | string {
  if (buf.length < HEADER_BYTES) return `frame of ${buf.length} bytes is shorter than its ${HEADER_BYTES}-byte header`;
  const type = buf.readUInt8(0);
  if (!KNOWN_TYPES.has(type)) return `unknown frame type ${type}`;
  const streamId = buf.readUInt32BE(1);
  if (streamId === 0) return 'stream id 0 is reserved';
  const payload = buf.subarray(HEADER_BYTES);
  if (type === FrameType.WINDOW && payload.length !== 4) return `WINDOW frame with a ${payload.length}-byte payload`;
  if (type === FrameType.DATA && payload.length > MAX_FRAME_PAYLOAD) return `DATA frame of ${payload.length} bytes exceeds ${MAX_FRAME_PAYLOAD}`;
  return { type: type as FrameType, streamId, payload };
}
