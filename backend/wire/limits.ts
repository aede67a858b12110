/** The wire protocol server's limits, one place: each is a number a deployment may tune (tests shrink them). */
export interface ServerLimits {
  heartbeatIntervalMs: number;
  commandsPerSecond: number;
  framesPerSecond: number;
  /** Time a client has to say hello. */
  helloTimeoutMs: number;
  /** Catch-up by deltas up to this many batches; beyond it a snapshot is cheaper. */
  maxCatchUpBatches: number;
  /** A client whose send buffer exceeds this skips position frames until it drains (they supersede). */
  positionsBackpressureBytes: number;
  /** A client that lets this much pile up unread is cut off (it reconnects and catches up by deltas). */
  maxBufferedBytes: number;
  /** Connections one user may hold at once (a console holds one; a few for consoles on several desks). */
  connectionsPerUser: number;
  /** Commands of one connection waiting for the serial pipeline at once. */
  maxQueuedCommands: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  heartbeatIntervalMs: 15_000,
  // A console replaying its offline queue sends hundreds of commands at once: legitimate, so allowed;
  // floods beyond several times this still close the connection.
  commandsPerSecond: 200,
  framesPerSecond: 400,
  helloTimeoutMs: 5_000,
  maxCatchUpBatches: 20_000,
  positionsBackpressureBytes: 4 * 1024 * 1024,
  maxBufferedBytes: 32 * 1024 * 1024,
  connectionsPerUser: 8,
  maxQueuedCommands: 400,
};
