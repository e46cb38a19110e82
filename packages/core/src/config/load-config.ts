import { ConfigError } from '../errors.ts'
import {
  ENV_VARS,
  fieldKinds,
  SECRET_FIELDS,
  type SyncConfig,
  type SyncConfigInput,
  syncConfigSchema,
} from './sync-config.ts'

type Env = Readonly<Record<string, string | undefined>>

const BOOLEANS: Readonly<Record<string, boolean>> = {
  true: true,
  '1': true,
  yes: true,
  false: false,
  '0': false,
  no: false,
}

/** Reads the SYNC_* variables into config input. Values that are not numbers stay strings, so the error names them. */
export function configFromEnv(env: Env): SyncConfigInput {
  const input: Record<string, unknown> = {}
  for (const [field, name] of Object.entries(ENV_VARS)) {
    const raw = env[name]
    if (raw === undefined || raw === '') continue
    const kind = fieldKinds[field as keyof SyncConfig]
    if (kind === 'int') input[field] = /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw
    else if (kind === 'bool') input[field] = BOOLEANS[raw.trim().toLowerCase()] ?? raw
    else if (kind === 'list')
      input[field] = raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    else input[field] = raw
  }
  return input as SyncConfigInput
}

/**
 * Validates config: env vars, overridden by explicit values. Throws `ConfigError` naming each bad
 * field (and its env var), never echoing the value of a secret.
 */
export function loadConfig(options: { env?: Env; overrides?: SyncConfigInput } = {}): SyncConfig {
  const merged = { ...configFromEnv(options.env ?? {}), ...stripUndefined(options.overrides ?? {}) }
  return parseConfig(merged)
}

export function parseConfig(input: unknown): SyncConfig {
  const result = syncConfigSchema.strict().safeParse(input)
  if (result.success) return result.data as SyncConfig
  const fields: string[] = []
  const lines = result.error.issues.map((issue) => {
    const unknownKeys = issue.code === 'unrecognized_keys' ? issue.keys.map(String) : []
    const field = String(issue.path[0] ?? (unknownKeys.length > 0 ? unknownKeys.join(', ') : '(root)'))
    // Each unknown key is a field of its own, so callers can match `fields` against a key.
    if (unknownKeys.length > 0 && issue.path.length === 0) fields.push(...unknownKeys)
    else fields.push(field)
    const env = ENV_VARS[field as keyof SyncConfig]
    const where = env ? `${field} (${env})` : field
    // The value is echoed only for a named, non-secret field: a bad root (a string, an array…)
    // may be a whole connection URL or token list.
    const got =
      issue.path.length === 0 || SECRET_FIELDS.has(field as keyof SyncConfig) || unknownKeys.length > 0
        ? ''
        : `, got ${shown(valueAt(input, issue.path))}`
    return `${where}: ${issue.message}${got}`
  })
  return raise(new ConfigError(`invalid configuration: ${lines.join('; ')}`, fields))
}

/** Longest string value a config error repeats: a typo is short, a credential is not. */
const SHOWN_STRING_MAX = 16

/**
 * A bad value as the error repeats it. Even in a field that holds no secret, the value may be a
 * connection URL or a token pasted into the wrong variable: a string is shown only when short and
 * not URL-like, else only its length.
 */
function shown(value: unknown): string {
  if (typeof value !== 'string') return JSON.stringify(value) ?? String(value)
  if (value.length <= SHOWN_STRING_MAX && !/[@:/]/.test(value)) return JSON.stringify(value)
  return `a string of ${value.length} characters (not repeated: it may be a credential)`
}

function raise(error: Error): never {
  throw error
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input
  for (const key of path) value = (value as Record<PropertyKey, unknown> | undefined)?.[key]
  return value
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}
