#!/usr/bin/env node
// The `cloister` command. Sources are TypeScript, run through tsx so that what runs is what is measured.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../scripts/cli.ts');
process.exitCode = await main(process.argv.slice(2));
