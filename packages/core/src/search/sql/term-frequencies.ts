import type { SqlTransport } from '../../l3/sql-transport.ts'
import type { IndexDefinition } from '../index-definition.ts'
import { type SearchSqlDialect, searchTables } from './search-sql-dialect.ts'
import type { DriverTerm } from './search-statement.ts'

/** Counted up to this many rows: enough to tell a rare term from a common one, cheap for either. */
const COUNT_CAP = 5_000
/** How long a count is trusted: frequencies drift slowly, the count costs an index walk. */
const COUNT_TTL_MS = 60_000
const MAX_COUNTS = 1_000

/**
 * Which term an unsorted page should be read from: the rarest (the fewest side rows to walk before
 * the page fills). SQLite keeps no statistics unless ANALYZE ran, and an `EXISTS` probe order is
 * the statement's own, so the choice is made here, from capped counts of each term's side rows,
 * remembered for a minute. (MySQL/MariaDB plan from their own statistics: not used there.)
 */
export class TermFrequencies {
  readonly #counts = new Map<string, { readonly count: number; readonly at: number }>()

  constructor(
    private readonly transport: SqlTransport,
    private readonly dialect: SearchSqlDialect,
    private readonly table: string,
  ) {}

  async rarest(definition: IndexDefinition, terms: readonly DriverTerm[], now: number): Promise<DriverTerm> {
    const keyOf = (term: DriverTerm) => `${definition.name}\0${term.side}\0${term.field}\0${term.value}`
    const unknown = terms.filter((term) => {
      const known = this.#counts.get(keyOf(term))
      return known === undefined || now - known.at > COUNT_TTL_MS
    })
    if (unknown.length > 0) {
      const q = this.dialect.quote
      const sides = searchTables(this.table)
      const params: (string | number)[] = []
      const columns = unknown.map((term, n) => {
        params.push(definition.name, term.field, term.value, COUNT_CAP)
        const column = term.side === 'words' ? 'w' : 'v'
        return `(SELECT COUNT(*) FROM (SELECT 1 FROM ${q(sides[term.side])} WHERE ix = ? AND f = ? AND ${column} = ? LIMIT ?) c) AS c${n}`
      })
      const { rows } = await this.transport.run({ sql: `SELECT ${columns.join(', ')}`, params })
      if (this.#counts.size + unknown.length > MAX_COUNTS) this.#counts.clear()
      for (const [n, term] of unknown.entries()) {
        this.#counts.set(keyOf(term), { count: Number(rows[0]?.[`c${n}`] ?? 0), at: now })
      }
    }
    let best = terms[0]!
    for (const term of terms) {
      if (this.#counts.get(keyOf(term))!.count < this.#counts.get(keyOf(best))!.count) best = term
    }
    return best
  }
}
