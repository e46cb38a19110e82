import {
  type RedisCapabilities,
  type RedisCommand,
  RedisKeyLayout,
  type RedisReply,
  RedisReplyError,
  type StoredRecord,
} from '@sync-engine/core/internal'
import { jsonDocumentText } from '../../../../packages/core/src/l2/json-document.ts'
import { searchHashArguments } from '../../../../packages/core/src/l2/search-hash.ts'

/** Options a TAG or NUMERIC attribute may carry in the schemas the backend sends; SEPARATOR takes one argument. */
const ATTRIBUTE_OPTIONS = new Set([
  'CASESENSITIVE',
  'SORTABLE',
  'UNF',
  'NOINDEX',
  'INDEXMISSING',
  'SEPARATOR',
])

/**
 * A stand-in for RediSearch over RedisJSON or hashes, for the unit tests of this machine (which has
 * no Redis with modules): it runs the commands the RediSearch backend sends — FT.CREATE / FT.DROPINDEX /
 * FT.INFO / FT.AGGREGATE in the subset the translator emits, and the definitions hash — with
 * RediSearch's documented semantics where they matter to exactness: a document whose attribute has
 * the wrong JSON type is dropped from the index (counted as a failure), as is a hash whose NUMERIC
 * field is not a number; a hash TAG field is split at its SEPARATOR (default ",") and each part
 * trimmed, empty parts dropped, while a SORTABLE one sorts by the whole field value; TAGs match whole values,
 * NUMERIC ranges with `(` exclusive bounds, NOT is the complement over the index's documents,
 * `ismissing`, SORTBY by sortable values (strings in byte order), FILTER, LIMIT, and rows whose
 * numbers are `%lld` text. It is a model of RediSearch, not RediSearch: the real one is checked by
 * test/integration/search/redisearch-differential.test.ts where a Redis 8 runs.
 */
export class FakeRediSearch {
  readonly documents = new Map<string, unknown>()
  readonly hashes = new Map<string, Map<string, string>>()
  readonly indexes = new Map<string, FakeIndex>()
  readonly sent: RedisCommand[] = []
  /** FT.INFO answers `indexing 1` this many times after each FT.CREATE (a backfill in progress). */
  backfillPolls = 0

  /** Without RedisJSON (`json: false`), `put` keeps projection hashes and the backend indexes ON HASH. */
  readonly capabilities: RedisCapabilities | undefined

  constructor(
    readonly keys: RedisKeyLayout = new RedisKeyLayout('t:', 4),
    options: { json?: boolean } = {},
  ) {
    this.capabilities = options.json === false ? { json: false, search: true, cluster: false } : undefined
  }

  /**
   * Keeps what the L2 write path keeps of a record (version order left to the caller): its `j:`
   * document, or without RedisJSON its `h:` hash, with the fields the hash script would set.
   */
  put(record: StoredRecord): void {
    if (this.capabilities?.json === false) {
      const [version, , , ...pairs] = searchHashArguments(record, 0, false).map(String)
      const hash = new Map<string, string>([['v', version!]])
      for (let i = 0; i + 1 < pairs.length; i += 2) hash.set(pairs[i]!, pairs[i + 1]!)
      this.hashes.set(this.keys.searchHashKey(record.id), hash)
      return
    }
    this.documents.set(this.keys.docKey(record.id), JSON.parse(jsonDocumentText(record)))
  }

  async send(command: RedisCommand): Promise<RedisReply> {
    this.sent.push(command)
    const [name, ...args] = command.map(String) as [string, ...string[]]
    switch (name) {
      case 'FT.CREATE':
        return this.#create(args)
      case 'FT.DROPINDEX':
        if (!this.indexes.delete(args[0]!)) throw new RedisReplyError('Unknown Index name')
        return 'OK'
      case 'FT.INFO':
        return this.#info(args[0]!)
      case 'FT.AGGREGATE':
        return this.#aggregate(args)
      case 'HSET': {
        const hash = this.hashes.get(args[0]!) ?? new Map<string, string>()
        hash.set(args[1]!, args[2]!)
        this.hashes.set(args[0]!, hash)
        return 1
      }
      case 'HGET':
        return this.hashes.get(args[0]!)?.get(args[1]!) ?? null
      case 'HDEL':
        return this.hashes.get(args[0]!)?.delete(args[1]!) ? 1 : 0
      case 'HGETALL':
        return [...(this.hashes.get(args[0]!) ?? new Map()).entries()].flat()
      default:
        throw new RedisReplyError(`ERR unknown command '${name}'`)
    }
  }

  #create(args: string[]): RedisReply {
    const [name, on, keyType, prefixWord, count, ...rest] = args
    if (this.indexes.has(name!)) throw new RedisReplyError('Index already exists')
    if (on !== 'ON' || (keyType !== 'JSON' && keyType !== 'HASH') || prefixWord !== 'PREFIX')
      throw new RedisReplyError('ERR syntax')
    const prefixes = rest.splice(0, Number(count))
    const schema = rest.indexOf('SCHEMA')
    const attributes: FakeAttribute[] = []
    let at = schema + 1
    while (at < rest.length) {
      const [path, as, alias, type] = rest.slice(at, at + 4)
      if (as !== 'AS' || (type !== 'TAG' && type !== 'NUMERIC'))
        throw new RedisReplyError(`ERR bad field ${path}`)
      if (keyType === 'JSON' ? !path!.startsWith('$') : path!.startsWith('$'))
        throw new RedisReplyError(`ERR bad field ${path} for ${keyType}`)
      at += 4
      const options = new Set<string>()
      let separator = ','
      while (at < rest.length && ATTRIBUTE_OPTIONS.has(rest[at]!)) {
        const option = rest[at++]!
        if (option === 'SEPARATOR') {
          if (type !== 'TAG' || keyType !== 'HASH') throw new RedisReplyError('ERR SEPARATOR here')
          separator = rest[at++]!
        }
        if (option === 'UNF' && rest[at - 2] !== 'SORTABLE')
          throw new RedisReplyError('ERR UNF without SORTABLE')
        options.add(option)
      }
      attributes.push({ path: path!, alias: alias!, type, options, separator })
    }
    this.indexes.set(name!, { keyType, prefixes, attributes, polls: this.backfillPolls })
    return 'OK'
  }

  #info(name: string): RedisReply {
    const index = this.#index(name)
    const { docs, failures } = this.#indexed(index)
    const indexing = index.polls > 0 ? 1 : 0
    if (index.polls > 0) index.polls--
    const reply: RedisReply[] = ['index_name', name, 'num_docs', String(docs.length), 'indexing', indexing]
    reply.push(
      'index_definition',
      ['key_type', index.keyType, 'prefixes', [...index.prefixes], 'default_score', '1'],
      'percent_indexed',
      indexing ? '0.5' : '1',
      'hash_indexing_failures',
      failures,
      'attributes',
      [],
    )
    return reply
  }

  #index(name: string): FakeIndex {
    const index = this.indexes.get(name)
    if (index === undefined) throw new RedisReplyError(`${name}: no such index`)
    return index
  }

  /** The index's documents: each attribute's values, or none for a document refused for a type. */
  #indexed(index: FakeIndex): { docs: Doc[]; failures: number } {
    const docs: Doc[] = []
    let failures = 0
    const source: [string, unknown][] =
      index.keyType === 'JSON' ? [...this.documents.entries()] : [...this.hashes.entries()]
    for (const [key, document] of source.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (!index.prefixes.some((prefix) => key.startsWith(prefix))) continue
      const doc: Doc = { values: new Map(), sortable: new Map() }
      let refused = false
      for (const attribute of index.attributes) {
        const found =
          index.keyType === 'JSON'
            ? jsonValues(document, attribute)
            : hashValues(document as Map<string, string>, attribute)
        if (found === undefined) refused = true
        else {
          doc.values.set(attribute.alias, found.values)
          if (found.sortable !== undefined) doc.sortable.set(attribute.alias, found.sortable)
        }
      }
      if (refused) failures++
      else docs.push(doc)
    }
    return { docs, failures }
  }

  #aggregate(args: string[]): RedisReply {
    const [name, queryText, ...rest] = args
    const index = this.#index(name!)
    const options = new AggregateArgs(rest)
    const params = options.params
    const { docs } = this.#indexed(index)
    const attribute = (alias: string) => {
      const found = index.attributes.find((a) => a.alias === alias)
      if (found === undefined) throw new RedisReplyError(`Unknown field ${alias}`)
      return found
    }
    const query = new QueryParser(queryText!, params).parse()
    const matches = docs.filter((doc) => query(doc, attribute))
    const sortableValue = (doc: Doc, alias: string): unknown => {
      if (!attribute(alias).options.has('SORTABLE'))
        throw new RedisReplyError(`${alias} is not sortable or loaded`)
      return doc.sortable.get(alias)
    }
    let rows = matches
    if (options.filter !== undefined) {
      const filter = new FilterParser(options.filter).parse()
      rows = rows.filter((doc) => filter((alias) => sortableValue(doc, alias)))
    }
    rows = [...rows].sort((a, b) => {
      for (const { alias, descending } of options.sortBy) {
        const [x, y] = [sortableValue(a, alias), sortableValue(b, alias)]
        if (x === undefined || y === undefined) throw new Error('the fake does not sort missing values')
        const c = compare(x, y)
        if (c !== 0) return descending ? -c : c
      }
      return 0
    })
    rows = rows.slice(0, Math.min(options.max ?? Infinity, options.limit))
    const output = [...options.load, ...options.sortBy.map(({ alias }) => alias)]
    return [
      matches.length,
      ...rows.map((doc) =>
        [...new Set(output)].flatMap((alias) => [alias, replyValue(sortableValue(doc, alias))]),
      ),
    ]
  }
}

interface FakeAttribute {
  readonly path: string
  readonly alias: string
  readonly type: 'TAG' | 'NUMERIC'
  readonly options: ReadonlySet<string>
  /** A HASH TAG field's separator. */
  readonly separator: string
}

interface FakeIndex {
  readonly keyType: 'JSON' | 'HASH'
  readonly prefixes: readonly string[]
  readonly attributes: readonly FakeAttribute[]
  polls: number
}

/** One indexed document: each attribute's values, and the value a SORTABLE one sorts by. */
interface Doc {
  readonly values: Map<string, unknown[]>
  readonly sortable: Map<string, unknown>
}

type Indexed = { values: unknown[]; sortable?: unknown } | undefined

/** A JSON attribute: every value at its path, the first sortable; undefined when a type is refused. */
function jsonValues(document: unknown, attribute: FakeAttribute): Indexed {
  const found = jsonPath(document, attribute.path).filter((v) => v !== null)
  const accepts = (v: unknown) =>
    attribute.type === 'NUMERIC' ? typeof v === 'number' : typeof v === 'string' || typeof v === 'boolean'
  if (!found.every(accepts)) return undefined
  return { values: found, ...(found.length > 0 && { sortable: found[0] }) }
}

/**
 * A HASH attribute: the field's text, a TAG split at the separator with each part trimmed and
 * empty parts dropped, a NUMERIC parsed (undefined, a refused document, when it is not a number).
 * A SORTABLE TAG sorts by the whole text (UNF: as written; the fake does not model normalising).
 */
function hashValues(hash: Map<string, string>, attribute: FakeAttribute): Indexed {
  const text = hash.get(attribute.path)
  if (text === undefined) return { values: [] }
  if (attribute.type === 'NUMERIC') {
    const value = Number(text)
    if (text.trim() === '' || !Number.isFinite(value)) return undefined
    return { values: [value], sortable: value }
  }
  if (attribute.options.has('SORTABLE') && !attribute.options.has('UNF'))
    throw new Error('the fake models SORTABLE TAGs on HASH with UNF only')
  const values = text
    .split(attribute.separator)
    .map((part) => part.trim())
    .filter((part) => part !== '')
  return { values, sortable: text }
}
type Matcher = (doc: Doc, attribute: (alias: string) => FakeAttribute) => boolean

/** The aggregate steps the backend sends, in any order. */
class AggregateArgs {
  readonly params = new Map<string, string>()
  readonly load: string[] = []
  readonly sortBy: { alias: string; descending: boolean }[] = []
  filter: string | undefined
  max: number | undefined
  limit = 10

  constructor(args: readonly string[]) {
    for (let i = 0; i < args.length; ) {
      const word = args[i++]
      const count = () => Number(args[i++])
      if (word === 'LOAD') for (let n = count(); n > 0; n--) this.load.push(args[i++]!.slice(1))
      else if (word === 'TIMEOUT' || word === 'DIALECT') i++
      else if (word === 'FILTER') this.filter = args[i++]
      else if (word === 'LIMIT') {
        if (args[i++] !== '0') throw new RedisReplyError('the backend only pages by keyset')
        this.limit = count()
      } else if (word === 'SORTBY') {
        for (let n = count(); n > 0; n -= 2) {
          this.sortBy.push({ alias: args[i++]!.slice(1), descending: args[i++] === 'DESC' })
        }
        if (args[i] === 'MAX') {
          i++
          this.max = count()
        }
      } else if (word === 'PARAMS') {
        for (let n = count(); n > 0; n -= 2) this.params.set(args[i++]!, args[i++]!)
      } else throw new RedisReplyError(`ERR unknown argument ${word}`)
    }
  }
}

/** Dialect 2 as the translator writes it: AND by space above OR, `-` NOT, tags, ranges, ismissing. */
class QueryParser {
  #at = 0

  constructor(
    readonly text: string,
    readonly params: ReadonlyMap<string, string>,
  ) {}

  parse(): Matcher {
    const matcher = this.#union()
    if (this.#at !== this.text.length) throw this.#error()
    return matcher
  }

  #union(): Matcher {
    const parts = [this.#intersection()]
    while (this.#eat('|')) parts.push(this.#intersection())
    return (doc, attribute) => parts.some((part) => part(doc, attribute))
  }

  #intersection(): Matcher {
    const parts = [this.#unary()]
    while (this.text[this.#at] === ' ') {
      this.#at++
      parts.push(this.#unary())
    }
    return (doc, attribute) => parts.every((part) => part(doc, attribute))
  }

  #unary(): Matcher {
    if (this.#eat('-')) {
      const inner = this.#unary()
      return (doc, attribute) => !inner(doc, attribute)
    }
    if (this.#eat('(')) {
      const inner = this.#union()
      if (!this.#eat(')')) throw this.#error()
      return inner
    }
    if (this.#eat('ismissing(@')) {
      const alias = this.#name()
      if (!this.#eat(')')) throw this.#error()
      return (doc, attribute) => {
        if (!attribute(alias).options.has('INDEXMISSING')) throw new RedisReplyError('needs INDEXMISSING')
        return (doc.values.get(alias) ?? []).length === 0
      }
    }
    if (!this.#eat('@')) throw this.#error()
    const alias = this.#name()
    if (!this.#eat(':')) throw this.#error()
    if (this.#eat('{')) {
      const wanted: { value: string; prefix: boolean }[] = []
      do {
        const value = this.#param()
        wanted.push({ value, prefix: this.#eat('*') })
      } while (this.#eat('|'))
      if (!this.#eat('}')) throw this.#error()
      return (doc, attribute) => {
        if (attribute(alias).type !== 'TAG') throw new RedisReplyError(`${alias} is not a TAG`)
        const tags = (doc.values.get(alias) ?? []).map(String)
        return tags.some((tag) => wanted.some((w) => (w.prefix ? tag.startsWith(w.value) : tag === w.value)))
      }
    }
    if (!this.#eat('[')) throw this.#error()
    const low = this.#bound()
    if (!this.#eat(' ')) throw this.#error()
    const high = this.#bound()
    if (!this.#eat(']')) throw this.#error()
    return (doc, attribute) => {
      if (attribute(alias).type !== 'NUMERIC') throw new RedisReplyError(`${alias} is not NUMERIC`)
      return (doc.values.get(alias) ?? []).some((v) => {
        const n = v as number
        return (
          (low.exclusive ? n > low.value : n >= low.value) &&
          (high.exclusive ? n < high.value : n <= high.value)
        )
      })
    }
  }

  #bound(): { value: number; exclusive: boolean } {
    const exclusive = this.#eat('(')
    if (this.#eat('-inf')) return { value: -Infinity, exclusive }
    if (this.#eat('+inf')) return { value: Infinity, exclusive }
    const text = this.text[this.#at] === '$' ? this.#param() : this.#match(/^-?\d+/)
    const value = Number(text)
    if (!/^-?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(text)) throw new RedisReplyError(`not a number: ${text}`)
    return { value, exclusive }
  }

  #param(): string {
    if (!this.#eat('$')) throw this.#error()
    const name = this.#name()
    const value = this.params.get(name)
    if (value === undefined) throw new RedisReplyError(`No such parameter \`${name}\``)
    return value
  }

  #name(): string {
    return this.#match(/^[A-Za-z0-9_]+/)
  }

  #match(pattern: RegExp): string {
    const found = pattern.exec(this.text.slice(this.#at))?.[0]
    if (found === undefined) throw this.#error()
    this.#at += found.length
    return found
  }

  #eat(token: string): boolean {
    if (!this.text.startsWith(token, this.#at)) return false
    this.#at += token.length
    return true
  }

  #error(): RedisReplyError {
    return new RedisReplyError(
      `Syntax error at offset ${this.#at} near ${this.text.slice(this.#at, this.#at + 10)}`,
    )
  }
}

type Filter = (value: (alias: string) => unknown) => boolean

/** FILTER as the backend writes it: `||`, `&&`, parentheses, `@a op literal`. */
class FilterParser {
  #at = 0

  constructor(readonly text: string) {}

  parse(): Filter {
    const filter = this.#or()
    if (this.#at !== this.text.length) throw new RedisReplyError(`bad FILTER at ${this.#at}: ${this.text}`)
    return filter
  }

  #or(): Filter {
    const parts = [this.#and()]
    while (this.#eat(' || ')) parts.push(this.#and())
    return (value) => parts.some((part) => part(value))
  }

  #and(): Filter {
    const parts = [this.#comparison()]
    while (this.#eat(' && ')) parts.push(this.#comparison())
    return (value) => parts.every((part) => part(value))
  }

  #comparison(): Filter {
    if (this.#eat('(')) {
      const inner = this.#or()
      if (!this.#eat(')')) throw new RedisReplyError(`bad FILTER: ${this.text}`)
      return inner
    }
    const found = /^@([A-Za-z0-9_]+) (==|<|>) ('[^'\\]*'|-?\d+)/.exec(this.text.slice(this.#at))
    if (found === null) throw new RedisReplyError(`bad FILTER at ${this.#at}: ${this.text}`)
    this.#at += found[0].length
    const [, alias, op, literal] = found as unknown as [string, string, string, string]
    const right = literal.startsWith("'") ? literal.slice(1, -1) : Number(literal)
    return (value) => {
      const c = compare(value(alias), right)
      return op === '==' ? c === 0 : op === '<' ? c < 0 : c > 0
    }
  }

  #eat(token: string): boolean {
    if (!this.text.startsWith(token, this.#at)) return false
    this.#at += token.length
    return true
  }
}

/** RSValue_Cmp for what the backend compares: two numbers, or two strings in byte order (then length). */
function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b
  if (typeof a !== 'string' || typeof b !== 'string')
    throw new Error(`the fake compares like types: ${a}, ${b}`)
  const [x, y] = [new TextEncoder().encode(a), new TextEncoder().encode(b)]
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!
  return x.length - y.length
}

/** Row values as RediSearch writes them in RESP2: text, integers as `%lld`, other numbers `%.12g`. */
function replyValue(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toPrecision(12)
  return String(value)
}

/** The JSONPath subset of the schema: `.name`, `["name"]`, `[*]`, `[n]`. */
function jsonPath(document: unknown, path: string): unknown[] {
  let at: unknown[] = [document]
  const steps = path.slice(1).match(/\.[A-Za-z_][A-Za-z0-9_]*|\["[^"]*"\]|\[\*\]|\[\d+\]/g) ?? []
  if (steps.join('') !== path.slice(1)) throw new RedisReplyError(`bad path ${path}`)
  for (const step of steps) {
    at = at.flatMap((value) => {
      if (step === '[*]') return Array.isArray(value) ? value : []
      if (/^\[\d+\]$/.test(step))
        return Array.isArray(value) ? value.slice(Number(step.slice(1, -1))).slice(0, 1) : []
      const name = step.startsWith('.') ? step.slice(1) : step.slice(2, -2)
      if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, name))
        return []
      return [(value as Record<string, unknown>)[name]]
    })
  }
  return at
}
