// Loaded by the plugin as vitest's first setup file, in every test process or thread: hooks
// around every test. The hooks come from the `vitest` instance that runs the tests.
import { afterAll, afterEach, beforeAll, beforeEach, inject } from 'vitest';
import hooks from './hooks.js';

await hooks.setupVitest({ afterAll, afterEach, beforeAll, beforeEach, inject: inject as (key: string) => unknown });
