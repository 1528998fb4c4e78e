// Every conformance suite, defined against a target supplied later (env for `npm run conformance`,
// a freshly started reference coordinator for the regular test suite).
import { afterAll, describe } from 'vitest';
import { cleanup, type Target } from '../client.ts';
import { defineAgentSuite } from './agents.ts';
import { defineCancelSuite } from './cancel.ts';
import { defineCatalogSuite } from './catalog.ts';
import { defineErrorSuite } from './errors.ts';
import { defineLeaseSuite } from './lease.ts';
import { defineRoutingSuite } from './routing.ts';
import { defineTaskSuite } from './tasks.ts';

export function defineConformance(target: () => Target): void {
  describe('hive protocol v1 conformance', () => {
    defineErrorSuite(target);
    defineAgentSuite(target);
    defineTaskSuite(target);
    defineCancelSuite(target);
    defineLeaseSuite(target);
    defineRoutingSuite(target);
    defineCatalogSuite(target);
    afterAll(() => cleanup(target()));
  });
}
