import { ensureRegistryInstalled } from './registry';
import { reportSkippedShared } from './shared';

/** Mocha root hooks: make sure the test bed's tools exist before any suite, report skips at the end. */
export const mochaHooks = {
  beforeAll(): void {
    ensureRegistryInstalled();
  },
  afterAll(): void {
    reportSkippedShared();
  },
};
