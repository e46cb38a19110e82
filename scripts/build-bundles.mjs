// Bundles the serverless entries after `tsc -b` built every package (npm run build):
//   dist/lambda/api.mjs, dist/lambda/flusher.mjs (+ dist/lambda/chunks/*): Node 20+, ES modules;
//     the drivers a configuration may not use (ioredis, mysql2) are dynamic imports, so esbuild
//     puts them in chunks of their own that load only when configured.
//   dist/worker/index.mjs: one file, fetch-based drivers only, for workerd (nodejs_compat).
// Each directory runs with no node_modules anywhere. Writes dist/bundles.json: the bytes of each
// entry and of what it imports statically (the size budget counts those, not lazy chunks).
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const serverless = join(root, 'packages/serverless/dist')
const out = join(root, 'dist')

// ESM output of CommonJS dependencies (ioredis, mysql2) calls `require` for Node built-ins.
const requireBanner =
  "import { createRequire as __syncCreateRequire } from 'node:module'; const require = __syncCreateRequire(import.meta.url);"

await rm(out, { recursive: true, force: true })
await mkdir(out, { recursive: true })

const lambda = await build({
  entryPoints: { api: join(serverless, 'lambda/api.js'), flusher: join(serverless, 'lambda/flusher.js') },
  outdir: join(out, 'lambda'),
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  // Error class names stay readable in logs (`BackendError`, not `L`).
  keepNames: true,
  legalComments: 'none',
  metafile: true,
  banner: { js: requireBanner },
  logLevel: 'warning',
})

const worker = await build({
  entryPoints: [join(serverless, 'worker/index.js')],
  outfile: join(out, 'worker/index.mjs'),
  bundle: true,
  platform: 'neutral',
  mainFields: ['module', 'main'],
  conditions: ['workerd', 'worker', 'browser'],
  external: ['node:*'],
  format: 'esm',
  target: 'es2022',
  minify: true,
  // Error class names stay readable in logs (`BackendError`, not `L`).
  keepNames: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
})

/** An entry's bytes with every chunk it imports statically (transitively), and its lazy chunks. */
function sizes(metafile) {
  const outputs = metafile.outputs
  const report = {}
  for (const [file, output] of Object.entries(outputs)) {
    // Dynamic imports are entry points to esbuild too: only the entries named here are reported.
    if (!output.entryPoint || file.includes('/chunks/')) continue
    const seen = new Set()
    const visit = (name) => {
      if (seen.has(name)) return
      seen.add(name)
      for (const imported of outputs[name]?.imports ?? []) {
        if (imported.kind === 'import-statement' && outputs[imported.path]) visit(imported.path)
      }
    }
    visit(file)
    const lazy = [...seen].flatMap((name) =>
      (outputs[name].imports ?? []).filter((i) => i.kind === 'dynamic-import' && outputs[i.path]),
    )
    report[relative(root, file)] = {
      staticBytes: [...seen].reduce((sum, name) => sum + outputs[name].bytes, 0),
      lazyChunks: lazy.length,
    }
  }
  return report
}

/** Every import each output leaves to the runtime (esbuild's externals): Node built-ins only, or none. */
function externals(metafile) {
  const found = new Set()
  for (const output of Object.values(metafile.outputs)) {
    for (const imported of output.imports ?? []) if (imported.external) found.add(imported.path)
  }
  return [...found].sort()
}

const report = {
  ...sizes(lambda.metafile),
  ...sizes(worker.metafile),
  externals: { 'dist/lambda': externals(lambda.metafile), 'dist/worker': externals(worker.metafile) },
}
await writeFile(join(out, 'bundles.json'), `${JSON.stringify(report, null, 2)}\n`)
for (const [file, { staticBytes }] of Object.entries(report)) {
  if (staticBytes === undefined) continue
  console.log(`${file}: ${(staticBytes / 1024).toFixed(0)} KiB with its static imports`)
}
