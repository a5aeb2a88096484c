// Reads what Miniflare persisted: every Durable Object's SQLite file under a directory, so a
// test can check that a deleted session left nothing behind.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";

function sqliteFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".sqlite"))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** How many stored rows, in any table of any object's SQLite under `dir`, mention `text`. */
export function rowsMentioning(dir: string, text: string): number {
  let count = 0;
  for (const file of sqliteFiles(dir)) {
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      const tables = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%'")
        .all()
        .map((row) => String(row.name));
      for (const table of tables) {
        const select = db.prepare(`SELECT * FROM "${table}"`);
        select.setReadBigInts(true);
        for (const row of select.all()) {
          if (Object.values(row).some((value) => String(value).includes(text))) count += 1;
        }
      }
    } finally {
      db.close();
    }
  }
  return count;
}
