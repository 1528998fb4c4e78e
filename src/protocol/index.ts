// Hive protocol v1 (DESIGN §5): every wire message as a zod schema; types are inferred, never restated.
export * from './admin.ts';
export * from './agents.ts';
export * from './capabilities.ts';
export * from './errors.ts';
export * from './format-issue.ts';
export * from './names.ts';
export * from './tasks.ts';
