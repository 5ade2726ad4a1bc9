/**
 * What a driver's owner may learn of every `zfs`/`zpool` command it runs (for metrics): which
 * subcommand, how long it took, whether it succeeded. Told after the command ended; an
 * observer that throws is ignored, it never fails the command.
 */

export interface ZfsCommandInfo {
  /** `send`, `recv`, `list`, `get`, `snapshot`, `destroy`, `hold`, …; `zpool get` for zpool's. */
  subcommand: string;
  durationMs: number;
  ok: boolean;
}

export type ZfsCommandObserver = (info: ZfsCommandInfo) => void;

/** The subcommand of `bin args` as a metric label: `receive` is `recv`, zpool's carry `zpool `. */
export function subcommandOf(bin: string, args: readonly string[], zpoolBin: string): string {
  const first = args[0] ?? '';
  const name = first === 'receive' ? 'recv' : first;
  return bin === zpoolBin ? `zpool ${name}` : name;
}

export function tell(observer: ZfsCommandObserver | undefined, info: ZfsCommandInfo): void {
  if (observer === undefined) return;
  try {
    observer(info);
  } catch {
    // Metrics must never break a command.
  }
}
