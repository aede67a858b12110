/**
 * mpegts.js's WebSocket loader, but one that says why a stream ended: the backend's close codes (camera
 * offline, encoder missing, stalled, …) reach the tile instead of a silent "complete". It also counts bytes
 * for the tile's bitrate.
 */
import mpegts from 'mpegts.js';

export interface LoaderReport {
  /** Bytes received since the loader opened. */
  bytes: number;
  /** Close code and reason when the server ended the stream (not when we aborted). */
  closed: { code: number; reason: string } | null;
}

type CustomLoader = NonNullable<NonNullable<Parameters<typeof mpegts.createPlayer>[1]>['customLoader']>;

/** A loader class bound to one report object (mpegts.js constructs loaders itself). */
export function reportingWsLoader(report: LoaderReport): CustomLoader {
  const Base = mpegts.BaseLoader;
  const status = mpegts.LoaderStatus;
  const errors = mpegts.LoaderErrors;
  return class ReportingWsLoader extends Base {
    private ws: WebSocket | null = null;
    private aborted = false;
    private received = 0;

    constructor() {
      super('zongzhi-ws-loader');
      this._needStash = true;
    }

    override open(dataSource: { url: string }): void {
      const ws = new WebSocket(dataSource.url);
      this.ws = ws;
      ws.binaryType = 'arraybuffer';
      this._status = status.kConnecting;
      ws.onopen = () => (this._status = status.kBuffering);
      ws.onmessage = (e: MessageEvent<unknown>) => {
        if (!(e.data instanceof ArrayBuffer)) return;
        const start = this.received;
        this.received += e.data.byteLength;
        report.bytes += e.data.byteLength;
        this.onDataArrival(e.data, start, this.received);
      };
      ws.onclose = (e) => {
        if (this.aborted) return;
        report.closed = { code: e.code, reason: e.reason };
        this._status = status.kError;
        // Any end of a live stream is an error for the player: it stops, the tile decides what next.
        // (mpegts.js's typings declare the error type as its whole enum object; the runtime passes one member.)
        (this.onError as unknown as (type: string, info: { code: number; msg: string }) => void)(errors.EXCEPTION, { code: e.code, msg: e.reason || `WebSocket closed (${e.code})` });
      };
      ws.onerror = () => {
        /* followed by close, which reports */
      };
    }

    override abort(): void {
      this.aborted = true;
      if (this.ws && this.ws.readyState <= WebSocket.OPEN) this.ws.close();
      this.ws = null;
      this._status = status.kComplete;
    }

    override destroy(): void {
      this.abort();
      super.destroy();
    }
  };
}
