/**
 * Reading and checking an upload off the serving thread. A backend that serves a city must keep answering its
 * consoles while a city's files are parsed and its grids checked (6,003 grids with their parents' boundaries:
 * about 15 s of geometry on a CI core, bench/import-grids.ts). The worker runs the backend's own entry script
 * again (`entry`, with the same loader flags: tsx from source, or the bundled out/main/backend.js), which hands
 * over to runReadWorker when it finds itself in such a worker; what it read comes back as plain data.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { readImport, type ImportFiles, type ImportKind, type ImportOptions, type ReadImport } from './prepare';

const KIND = 'zongzhi-import-read';

export type ImportReader = (what: ImportKind, files: ImportFiles, options: ImportOptions) => Promise<ReadImport>;

interface Job {
  kind: typeof KIND;
  what: ImportKind;
  files: ImportFiles;
  options: ImportOptions;
}
type Answer = { ok: true; read: ReadImport } | { ok: false; message: string };

/** A reader that reads in a worker thread started from `entry` (which must call runReadWorker first thing). */
export function workerReader(entry: string, execArgv: string[] = process.execArgv): ImportReader {
  return (what, files, options) =>
    new Promise<ReadImport>((resolve, reject) => {
      const job: Job = { kind: KIND, what, files, options };
      const worker = new Worker(entry, { workerData: job, execArgv });
      worker.once('message', (answer: Answer) => (answer.ok ? resolve(answer.read) : reject(new Error(answer.message))));
      worker.once('error', reject);
      // After an answer this settles nothing; before one, the worker died without saying why.
      worker.once('exit', (code) => reject(new Error(`the import worker stopped (exit ${code}) before it answered`)));
    });
}

/** In an import worker: reads the job's files, answers, and returns true (the entry then does nothing else). */
export function runReadWorker(): boolean {
  const job = workerData as Partial<Job> | null;
  if (isMainThread || !parentPort || job?.kind !== KIND || !job.what || !job.files) return false;
  const port = parentPort;
  readImport(job.what, job.files, job.options ?? {}).then(
    (read) => port.postMessage({ ok: true, read } satisfies Answer),
    (e: unknown) => port.postMessage({ ok: false, message: e instanceof Error ? e.message : String(e) } satisfies Answer),
  );
  return true;
}
