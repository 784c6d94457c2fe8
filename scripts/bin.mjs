// tsc writes files without the executable bit: set it on the `loopwatch` command's entry so that
// dist/cli/index.js runs directly (its `#!/usr/bin/env node` line is kept by tsc).
import { chmodSync } from 'node:fs';
chmodSync(new URL('../dist/cli/index.js', import.meta.url), 0o755);
