import {
  BINARY_MIME,
  InvalidArgumentError,
  JSON_MIME,
  type SyncEngine,
  SyncItem,
  validateId,
} from '@sync-engine/core'
import type { Context, Hono } from 'hono'
import { decodeBase64 } from '../encoding/base64.ts'
import { readJsonBody } from '../encoding/read-json-body.ts'
import { type Problem, problemFor } from '../problems/problem-details.ts'
import type { RequestScopes } from '../request-scope.ts'
import { methodRoutes } from '../routing/method-routes.ts'
import { parseWith } from '../validation/invalid-argument.ts'
import { type RoutingFields, submitOptionsFrom } from '../validation/routing-schemas.ts'
import { type BatchGetEntry, encodeBatchGetBody } from './batch-get-body.ts'
import { batchGetBodySchema, batchOpSchema, batchWriteBodySchema, type PutOp } from './batch-schemas.ts'

/** 64 KiB on top of two payloads: room for the JSON envelope of a batch. */
const BATCH_ENVELOPE_BYTES = 64 * 1024

type OpResult =
  | { readonly id: string | null; readonly ok: true; readonly version: number }
  | { readonly id: string | null; readonly ok: false; readonly error: Problem }

/**
 * `POST /v1/items:batchGet` and `POST /v1/items:batch` (the colon is literal, Google-API style).
 * A batch body may be up to 2 × `maxPayloadBytes` + 64 KiB: enough for one largest item sent as
 * base64 (4/3 of its size) plus the envelope; each item is still held to `maxPayloadBytes` alone.
 */
export function registerBatchRoutes(app: Hono, engine: SyncEngine, scopes: RequestScopes): void {
  const batchLimit = () => 2 * engine.config.maxPayloadBytes + BATCH_ENVELOPE_BYTES
  const bodyLimit = { bodyLimit: batchLimit }
  methodRoutes(app, '/v1/items:batchGet', { POST: (c) => batchGet(c, engine, scopes) }, bodyLimit)
  methodRoutes(app, '/v1/items:batch', { POST: (c) => batchWrite(c, engine) }, bodyLimit)
}

/** Items in request order; an invalid id fails its own entry only. One `getMany` for the rest. */
async function batchGet(c: Context, engine: SyncEngine, scopes: RequestScopes): Promise<Response> {
  const { ids } = parseWith(batchGetBodySchema, await readJsonBody(c), 'body')
  const problems = new Map<number, Problem>()
  const valid: string[] = []
  ids.forEach((id, index) => {
    try {
      valid.push(validateId(id))
    } catch (error) {
      problems.set(index, problemFor(error).problem)
    }
  })
  const items = valid.length > 0 ? await engine.getMany(valid, scopes.readOptions(c)) : []
  let next = 0
  const entries: BatchGetEntry[] = ids.map((id, index) => {
    const problem = problems.get(index)
    return problem ? { id, problem } : { id, item: items[next++] }
  })
  return c.body(encodeBatchGetBody(entries), 200, { 'content-type': 'application/json' })
}

/** Every op runs on its own: one bad op never blocks the others. 200 when all succeed, else 207. */
async function batchWrite(c: Context, engine: SyncEngine): Promise<Response> {
  const body = parseWith(batchWriteBodySchema, await readJsonBody(c), 'body')
  // Each op reaches the engine's write queue synchronously (before its first await), so ops are
  // queued in request order: a put followed by a delete of the same id ends deleted.
  const results = await Promise.all(body.ops.map((raw, index) => runOp(engine, raw, index, body.ack)))
  return c.json({ results }, results.every((result) => result.ok) ? 200 : 207)
}

async function runOp(
  engine: SyncEngine,
  raw: unknown,
  index: number,
  ack: RoutingFields['ack'],
): Promise<OpResult> {
  const id = idOf(raw)
  try {
    const op = parseWith(batchOpSchema, raw, `ops[${index}]`)
    if (op.op === 'delete') {
      const receipt = await engine.delete(op.id, ack === undefined ? undefined : { ack })
      return { id, ok: true, version: receipt.version }
    }
    const receipt = await engine.submit(itemOf(op, index), submitOptionsFrom({ ...op, ack }))
    return { id, ok: true, version: receipt.version }
  } catch (error) {
    return { id, ok: false, error: problemFor(error).problem }
  }
}

function itemOf(op: PutOp, index: number): SyncItem {
  const hasValue = op.value !== undefined
  if (hasValue === (op.base64 !== undefined)) {
    throw new InvalidArgumentError(`ops[${index}]: give exactly one of value (JSON) and base64 (binary)`)
  }
  const meta = { version: op.version }
  if (op.base64 !== undefined) {
    const bytes = decodeBase64(op.base64, `ops[${index}].base64`)
    return SyncItem.fromBinary(op.id, bytes, { ...meta, mime: op.mime ?? BINARY_MIME })
  }
  return SyncItem.fromJson(op.id, op.value, { ...meta, mime: op.mime ?? JSON_MIME })
}

function idOf(raw: unknown): string | null {
  const id = (raw as { id?: unknown } | null)?.id
  return typeof id === 'string' ? id : null
}
