#!/usr/bin/env node
'use strict';
// The CLI is TypeScript run through tsx's CommonJS hook, so `npx trustops` works right after `npm ci`
// with no build step and no network.
require('tsx/cjs');
require('../main.ts')
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
