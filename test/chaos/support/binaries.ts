import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { beforeAll, describe } from 'vitest'

/**
 * Chaos tests start their own servers, so they need the server binaries themselves, not a
 * reachable service. mariadbd lives in /usr/sbin on Debian, which is not on every user's PATH.
 */
const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/bin', '/usr/bin']

/** The absolute path of an executable named `name`, or undefined. */
export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS]
  for (const dir of dirs) {
    const path = join(dir, name)
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {
      // not here; try the next directory
    }
  }
  return undefined
}

/**
 * `describe` that runs only where every binary exists. Missing ones fail the suite loudly on CI
 * (`CI=true`: a green run that tested nothing would be a lie) and skip it with a banner elsewhere,
 * as `test/integration/support/services.ts` does for services.
 */
export function describeWithBinaries(name: string, binaries: readonly string[], fn: () => void): void {
  const missing = binaries.filter((binary) => findBinary(binary) === undefined)
  if (missing.length === 0) {
    describe(name, fn)
    return
  }
  const message = `${missing.join(', ')} not installed: the chaos tests start their own servers (apt-get install redis-server mariadb-server)`
  if (process.env.CI === 'true') {
    describe(name, () => {
      beforeAll(() => {
        throw new Error(`${message}. On CI the chaos tests must not be skipped.`)
      })
      fn()
    })
    return
  }
  const rule = '!'.repeat(100)
  console.warn(`\n${rule}\n!! SKIPPED "${name}": ${message}\n${rule}\n`)
  describe.skip(name, fn)
}

/** `findBinary`, or an error naming what to install. */
export function requireBinary(name: string): string {
  const path = findBinary(name)
  if (path === undefined)
    throw new Error(`${name} is not installed (looked on PATH and in ${EXTRA_DIRS.join(', ')})`)
  return path
}
