import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { archiveServerName, renderDatabaseArchives } from './database-archives';

const source = readFileSync(join(__dirname, 'database-archives.ts'), 'utf8');

describe('database archive server names', () => {
  it('defaults to the database name and returns a recorded one', () => {
    expect(archiveServerName('production', 'orders', {})).toBe('orders');
    expect(archiveServerName('production', 'orders', { production: 'orders-20260101t120000' })).toBe('orders-20260101t120000');
  });

  it('rewrites only the literal, sorted, and the result parses back', () => {
    const once = renderDatabaseArchives(source, { staging: 'orders-b', production: 'orders-a' });
    expect(once).toContain('= {\n  "production": "orders-a",\n  "staging": "orders-b",\n};');
    expect(renderDatabaseArchives(once, { production: 'orders-c' })).toContain('= {\n  "production": "orders-c",\n};');
    expect(once.replace(/= \{[^}]*\};/, '')).toBe(source.replace(/= \{[^}]*\};/, ''));
  });

  it('refuses a file without the generated declaration', () => {
    expect(() => renderDatabaseArchives('export const X = 1;', {})).toThrow('database-archives.ts: DATABASE_ARCHIVE_SERVER_NAMES declaration not found; expected the generated form');
  });
});
