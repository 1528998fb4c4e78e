#!/usr/bin/env node
// Launcher from a checkout: Node 24 runs the TypeScript sources directly (type stripping).
const { runAsProcess } = await import('../host-helper/cli.ts');
await runAsProcess();
