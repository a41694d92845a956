#!/usr/bin/env node
// kfsensor entry point: registers tsx so the TypeScript core runs as written, then hands over to the CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../shared/cli/main.ts');
process.exitCode = await main(process.argv);
