import { z } from 'zod'
import { ACK_LEVELS } from '../options/submit-options.ts'

const MiB = 1024 * 1024
const positiveInt = () => z.number().int().positive()

/** Hide credentials of a connection URL when it appears in an error or a log. */
export function redactUrl(url: string): string {
  // Userinfo runs to the LAST '@' before the path: a password may itself contain '@'.
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i, (_m, scheme: string) => `${scheme}***@`)
    .replace(/([?&](?:password|pass|pwd|token|secret)=)[^&#]*/gi, '$1***')
}

/**
 * Every setting, with the default that works with nothing configured: L1 + SQLite under
 * `dataDir`, no Redis, served on loopback. The env var of a field is SYNC_ + its name in
 * UPPER_SNAKE (listed in `ENV_VARS`).
 */
export const syncConfigSchema = z.object({
  /** L3 connection: `sqlite:<path>` (default `sqlite:<dataDir>/sync.db`) or `mysql://…`. */
  sqlUrl: z.string().min(1).optional(),
  /** L2 connection (`redis://…`); absent means no L2. */
  redisUrl: z.string().min(1).optional(),
  /** Prefix of every Redis key this engine writes. */
  redisPrefix: z.string().max(64).default('sync:'),
  /**
   * Shards of the Redis key space: item keys carry their shard's hash tag, and the outbox has one
   * stream per shard. Every instance over one Redis must use the same number.
   */
  redisShards: z.number().int().min(1).max(1024).default(16),
  /**
   * Where `logged` writes are kept until stored: `local`, a SQLite file under `dataDir` (the Node
   * default), or `redis`, the outbox in L2 that a flusher drains (`sync-engine flush-outbox`; the
   * only one on Lambda and Workers).
   */
  log: z.enum(['local', 'redis']).default('local'),
  /** SQL table for items. */
  sqlTable: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'must be a plain SQL identifier')
    .default('sync_items'),
  /** Directory for the embedded SQLite file (and, later, the write-ahead log). */
  dataDir: z.string().min(1).default('./data'),
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8787),
  /** Bearer tokens the HTTP API accepts; with none, it only listens on loopback. */
  apiTokens: z.array(z.string().min(16, 'tokens must be at least 16 characters')).default([]),
  /** L1 memory budget in bytes. */
  l1MaxBytes: positiveInt().default(256 * MiB),
  /**
   * L1's staleness bound: how long an entry may be served from memory before it is read again.
   * Absent: 5 s when L2 or L3 is shared with other instances (Redis, MySQL), none on the embedded
   * default; 0: none (only safe when this engine is the tiers' only writer).
   */
  l1TtlMs: z.number().int().min(0).max(86_400_000).optional(),
  /** Largest item accepted, in bytes. */
  maxPayloadBytes: positiveInt()
    .max(64 * MiB)
    .default(16 * MiB),
  batchFlushCount: positiveInt().max(100_000).default(1000),
  batchFlushBytes: positiveInt().default(1 * MiB),
  batchFlushMs: positiveInt().max(60_000).default(100),
  /**
   * Ack level when a submit does not name one. `logged` (the default) needs a write-ahead log; an
   * engine without one serves it as the stronger `stored`.
   */
  defaultAck: z.enum(ACK_LEVELS as [string, ...string[]]).default('logged'),
  /** Bound of the write-ahead log in bytes; backpressure rises as it fills. */
  walMaxBytes: positiveInt().default(1024 * MiB),
  /** Budget of queued (not yet flushed) bytes that backpressure measures against. */
  queueMaxBytes: positiveInt().default(64 * MiB),
  /** Refuse to start while L3 is unreachable, instead of starting degraded (writes parked in the log). */
  requireL3AtStart: z.boolean().default(false),
  /**
   * This engine is the only writer of L3 (and of the ids it caches in L2): the existence filter may
   * then answer "absent" without asking the tiers.
   */
  l3SingleWriter: z.boolean().default(false),
  /**
   * Where index definitions live and searches are answered: `sql` (L3's side tables, default) or
   * `redis` (RediSearch over L2: Redis 8, or RediSearch 2+; ON JSON with RedisJSON, else ON HASH;
   * finds only the items Redis holds).
   */
  searchBackend: z.enum(['sql', 'redis']).default('sql'),
  /** How long tombstones are kept before they may be purged. */
  tombstoneRetentionMs: positiveInt().default(7 * 24 * 3_600_000),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
})

export type SyncConfigInput = z.input<typeof syncConfigSchema>
export type SyncConfig = z.output<typeof syncConfigSchema> & { defaultAck: 'queued' | 'logged' | 'stored' }

/** Fields `reconfigure` applies live; every other field needs a restart. */
export const LIVE_FIELDS = [
  'l1MaxBytes',
  'l1TtlMs',
  'maxPayloadBytes',
  'batchFlushCount',
  'batchFlushBytes',
  'batchFlushMs',
  'defaultAck',
  'queueMaxBytes',
  'tombstoneRetentionMs',
  'logLevel',
] as const satisfies readonly (keyof SyncConfig)[]

type FieldKind = 'string' | 'int' | 'list' | 'bool'

const FIELD_KINDS: Record<keyof SyncConfig, FieldKind> = {
  sqlUrl: 'string',
  redisUrl: 'string',
  redisPrefix: 'string',
  redisShards: 'int',
  log: 'string',
  sqlTable: 'string',
  dataDir: 'string',
  host: 'string',
  port: 'int',
  apiTokens: 'list',
  l1MaxBytes: 'int',
  l1TtlMs: 'int',
  maxPayloadBytes: 'int',
  batchFlushCount: 'int',
  batchFlushBytes: 'int',
  batchFlushMs: 'int',
  defaultAck: 'string',
  walMaxBytes: 'int',
  queueMaxBytes: 'int',
  requireL3AtStart: 'bool',
  l3SingleWriter: 'bool',
  searchBackend: 'string',
  tombstoneRetentionMs: 'int',
  logLevel: 'string',
}

export const SECRET_FIELDS: ReadonlySet<keyof SyncConfig> = new Set(['apiTokens', 'sqlUrl', 'redisUrl'])

function envName(field: string): string {
  return `SYNC_${field.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`
}

/** Field → env var name, e.g. `l1MaxBytes` → `SYNC_L1_MAX_BYTES`. */
export const ENV_VARS: Readonly<Record<keyof SyncConfig, string>> = Object.fromEntries(
  Object.keys(FIELD_KINDS).map((field) => [field, envName(field)]),
) as Record<keyof SyncConfig, string>

export const fieldKinds: Readonly<Record<keyof SyncConfig, FieldKind>> = FIELD_KINDS
