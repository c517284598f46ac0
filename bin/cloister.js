#!/usr/bin/env node
// The `cloister` command. Sources are TypeScript, run through tsx so that what runs is what is measured.
import { register } from 'tsx/esm/api';

// The AWS SDK versions pinned in package-lock.json support Node 20; each process would otherwise
// print a multi-line notice that *later* SDK versions will want Node 22 (see the README). Set the
// variable to anything else to see it. Children of `cloister up` inherit the setting.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { main } = await import('../scripts/cli.ts');
process.exitCode = await main(process.argv.slice(2));
