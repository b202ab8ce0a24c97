#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci` through the prepare script).
import { main, reportFatal } from '../dist/src/cli/main.js';

// Nothing may end the process with a raw stack: an error that escapes main (a throw from a callback or
// a rejected promise nobody awaits) is one line, [E_INTERNAL], exit 2; the stack with --verbose.
const fatal = (err) => {
  process.exitCode = reportFatal(err, process.argv);
  process.exit();
};
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

main(process.argv).then((code) => {
  process.exitCode = code;
}, fatal);
