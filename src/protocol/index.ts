// Hive protocol v1 (DESIGN §5): every wire message as a zod schema; types are inferred, never restated.
// Message schemas are `z.lazy`: each is built at its first parse, not when this module loads. The
// agent's boot parses one of them (the register answer) and building them all cost it ~2.5 ms; the
// hive builds each at its first request. Names stay plain schemas (cheap, and used everywhere).
export * from './admin.ts';
export * from './agents.ts';
export * from './capabilities.ts';
export * from './errors.ts';
export * from './format-issue.ts';
export * from './names.ts';
export * from './tasks.ts';
