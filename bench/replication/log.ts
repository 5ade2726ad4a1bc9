/**
 * Progress messages of the benchmark go to stderr (stdout carries the table and the JSON line).
 */

const started = performance.now();

export function progress(message: string): void {
  const seconds = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${seconds}s] ${message}\n`);
}
