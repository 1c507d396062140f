/**
 * The barman server name each cluster's app database archives under in its backup bucket
 * (`<destinationPath>/<server name>/`), by cluster name; a cluster not listed archives under
 * its database's name (CloudNativePG's default). A restored database must archive under a new
 * name (barman refuses a non-empty WAL folder), so fail-back rewrites this file
 * (renderDatabaseArchives) and the region-failover workflow commits it: Git names the archive
 * a later promotion restores from, never a folder that stopped growing at the last fail-back.
 */
export const DATABASE_ARCHIVE_SERVER_NAMES: Readonly<Record<string, string>> = {};

/** The server name `cluster`'s database `database` archives under. */
export function archiveServerName(cluster: string, database: string, names: Readonly<Record<string, string>> = DATABASE_ARCHIVE_SERVER_NAMES): string {
  return names[cluster] ?? database;
}

/** This module's source with `names` (sorted, so a rewrite is deterministic). */
export function renderDatabaseArchives(source: string, names: Readonly<Record<string, string>>): string {
  const body = Object.keys(names)
    .sort()
    .map((cluster) => `  ${JSON.stringify(cluster)}: ${JSON.stringify(names[cluster])},\n`)
    .join('');
  const literal = body ? `{\n${body}}` : '{}';
  const pattern = /export const DATABASE_ARCHIVE_SERVER_NAMES: Readonly<Record<string, string>> = \{[^}]*\};/;
  if (!pattern.test(source)) throw new Error('database-archives.ts: DATABASE_ARCHIVE_SERVER_NAMES declaration not found; expected the generated form');
  return source.replace(pattern, `export const DATABASE_ARCHIVE_SERVER_NAMES: Readonly<Record<string, string>> = ${literal};`);
}
