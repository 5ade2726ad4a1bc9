import { readFileSync } from 'node:fs';

/** The package version, read once from package.json next to the build. */
export const VERSION: string = (() => {
  for (const relative of ['../../package.json', '../package.json']) {
    try {
      const parsed = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (parsed.name === 'zferry' && parsed.version) return parsed.version;
    } catch {
      // try the next location (running from source vs from dist/)
    }
  }
  return '0.0.0';
})();
