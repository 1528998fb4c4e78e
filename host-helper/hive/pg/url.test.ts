// --db: which values select PostgreSQL, which URLs are refused (a password would sit in argv), and
// the log label that never carries user or parameters.
import { describe, expect, it } from 'vitest';
import { describeDb, isPostgresUrl, pgUrlProblem } from './url.ts';

describe('--db values', () => {
  it('postgres:// and postgresql:// select PostgreSQL; anything else is a SQLite path', () => {
    expect(isPostgresUrl('postgres://h/db')).toBe(true);
    expect(isPostgresUrl('POSTGRESQL://h/db')).toBe(true);
    expect(isPostgresUrl('/var/db/hive.db')).toBe(false);
    expect(isPostgresUrl('postgres.db')).toBe(false);
  });

  it('refuses a password in the URL or its parameters, naming no value', () => {
    const pw = pgUrlProblem('postgres://u:hunter2@h/db');
    expect(pw).toMatch(/must not contain a password/);
    expect(pw).not.toContain('hunter2');
    expect(pgUrlProblem('postgres://u@h/db?sslmode=require&password=hunter2')).toMatch(/password parameter/);
    expect(pgUrlProblem('postgres://u@h:5432/db')).toBeNull();
    expect(pgUrlProblem('postgres://[bad')).toMatch(/not a valid/);
  });

  it('labels a database for logs by host and name only', () => {
    expect(describeDb('postgres://hive@db.example.org:5433/hive?sslmode=require')).toBe(
      'postgres://db.example.org:5433/hive',
    );
    expect(describeDb('/tmp/hive.db')).toBe('/tmp/hive.db');
  });
});
