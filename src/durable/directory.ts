// The market directory: which market names have accepted a write. In local workerd merely starting a SQLite-backed
// object creates its database files (measured: 3 files, about 15 KB per object, with no SQL run at all), so a read
// of a never-written market must not reach that market's object. The worker asks this one object first (and
// remembers the names it found, which are never removed); writes note their market here before they reach it.
import { DurableObject } from "cloudflare:workers";

/** The one directory object's name. */
export const DIRECTORY_NAME = "markets";

export class MarketDirectory extends DurableObject<Env> {
  /** Whether the table exists; it is created by the first `note`, so a lookup never writes. */
  private created = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.created = ctx.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'markets'").toArray().length > 0;
  }

  /** Records that `market` accepted (or is about to accept) a write. Idempotent. */
  async note(market: string): Promise<void> {
    const sql = this.ctx.storage.sql;
    if (!this.created) {
      sql.exec("CREATE TABLE IF NOT EXISTS markets (name TEXT PRIMARY KEY)");
      this.created = true;
    }
    sql.exec("INSERT INTO markets (name) VALUES (?) ON CONFLICT DO NOTHING", market);
  }

  /** Whether `market` was ever noted; reads only. */
  async has(market: string): Promise<boolean> {
    return this.created && this.ctx.storage.sql.exec("SELECT 1 FROM markets WHERE name = ?", market).toArray().length > 0;
  }
}
