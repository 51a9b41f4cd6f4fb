// What the Lambda Node.js runtime gives a handler, for running handlers in this process:
//   - the `awslambda` global (streamifyResponse, HttpResponseStream), which hono/aws-lambda's
//     streamHandle uses at module load;
//   - a response stream with the runtime's contract: setContentType() before the first write, an
//     `_onBeforeFirstWrite` hook through which HttpResponseStream.from() writes its JSON prelude
//     and the 8-byte NUL delimiter, and backpressure from the consumer;
//   - a context object (getRemainingTimeInMillis, awsRequestId, ...) and the invocation timeout.
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Context } from 'aws-lambda';

/** The marker the runtime reads to invoke a handler in response-streaming mode. */
export const STREAMING_MARKER = Symbol.for('aws.lambda.runtime.handler.streaming');
export const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

export interface ResponseSink {
  /** Called once, before the first chunk, with the content type the handler set. */
  start(contentType: string): void;
  /** Deliver a chunk; call `done` when the consumer can take more. */
  write(chunk: Buffer, done: (err?: Error | null) => void): void;
  end(): void;
}

/** The runtime's response stream, writing into a sink instead of the runtime API connection. */
export class LocalResponseStream extends Writable {
  _onBeforeFirstWrite?: (write: (chunk: string | Uint8Array) => void) => void;
  private contentType = DEFAULT_CONTENT_TYPE;
  private started = false;

  constructor(private readonly sink: ResponseSink) {
    super({ highWaterMark: 16 * 1024 });
  }

  setContentType(contentType: string): void {
    if (this.started) throw new Error('Cannot set content-type, too late.');
    this.contentType = contentType;
  }

  private begin(): void {
    if (this.started) return;
    this.started = true;
    this.sink.start(this.contentType);
    const hook = this._onBeforeFirstWrite;
    if (hook) hook((chunk) => this.sink.write(Buffer.from(chunk), () => {}));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.begin();
    if (chunk.length === 0) return callback();
    this.sink.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.begin();
    this.sink.end();
    callback();
  }
}

class HttpResponseStream {
  static from(underlying: LocalResponseStream, prelude: Record<string, unknown>): LocalResponseStream {
    underlying.setContentType(HTTP_INTEGRATION_CONTENT_TYPE);
    const json = JSON.stringify(prelude);
    underlying._onBeforeFirstWrite = (write) => {
      write(json);
      write(new Uint8Array(8));
    };
    return underlying;
  }
}

/** Install the `awslambda` global, as the runtime does before loading the handler module. */
export function installLambdaGlobals(): void {
  // The AWS SDK may have created an empty `awslambda` object already (for its InvokeStore).
  const g = globalThis as { awslambda?: Record<string, unknown> };
  const target = (g.awslambda ??= {});
  if (typeof target.streamifyResponse === 'function') return;
  target.streamifyResponse = <F extends object>(handler: F): F => {
    (handler as Record<symbol, unknown>)[STREAMING_MARKER] = 'response';
    return handler;
  };
  target.HttpResponseStream = HttpResponseStream;
}

export interface FunctionSettings {
  functionName: string;
  /** The function's timeout (Lambda's maximum is 900 s). */
  timeoutMs: number;
  memoryMb?: number;
  region: string;
}

export function createContext(fn: FunctionSettings, deadline: number): Context {
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: fn.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${fn.region}:000000000000:function:${fn.functionName}`,
    memoryLimitInMB: String(fn.memoryMb ?? 1024),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${fn.functionName}`,
    logStreamName: `local/${requestId}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

export class InvocationTimeout extends Error {
  constructor(fn: string, ms: number) {
    super(`${fn}: task timed out after ${(ms / 1000).toFixed(2)} seconds`);
    this.name = 'InvocationTimeout';
  }
}

/**
 * Invoke a buffered (event -> result) handler with a context and the function's timeout. On
 * timeout the invocation counts as failed, as on Lambda (the handler cannot be frozen here, so
 * whatever it still does runs on, unobserved).
 */
export async function invokeBuffered<E, R>(fn: FunctionSettings, handler: (event: E, context: Context) => Promise<R>, event: E): Promise<R> {
  const deadline = Date.now() + fn.timeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new InvocationTimeout(fn.functionName, fn.timeoutMs)), fn.timeoutMs);
  });
  try {
    return await Promise.race([handler(event, createContext(fn, deadline)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export type StreamingHandler<E> = (event: E, responseStream: LocalResponseStream, context: Context) => void | Promise<void>;

/** Invoke a response-streaming handler; resolves when the handler's promise settles. */
export async function invokeStreaming<E>(fn: FunctionSettings, handler: StreamingHandler<E>, event: E, stream: LocalResponseStream): Promise<void> {
  if ((handler as unknown as Record<symbol, unknown>)[STREAMING_MARKER] !== 'response') throw new Error(`${fn.functionName}: handler is not wrapped with awslambda.streamifyResponse`);
  const deadline = Date.now() + fn.timeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new InvocationTimeout(fn.functionName, fn.timeoutMs)), fn.timeoutMs);
  });
  try {
    await Promise.race([handler(event, stream, createContext(fn, deadline)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
