import { loadConfig, ConfigError } from './config/load.js';
import { formatProblem } from './config/errors.js';
for (const f of process.argv.slice(2)) {
  try { await loadConfig(f); console.log(f, 'ACCEPTED'); } catch (e) { if (e instanceof ConfigError) { console.log('  ' + JSON.stringify(f.split('/').pop()?.replace('.yml','')) + ': ['); for (const p of e.problems) console.log('    ' + JSON.stringify(formatProblem(p).slice(f.length + 1)) + ','); console.log('  ],'); } else throw e; }
}
