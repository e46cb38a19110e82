export { createPlanetScaleStore, type PlanetScaleStoreOptions } from './create-planetscale-store.ts'
export type { PlanetScaleOptions } from './planetscale-options.ts'
export { PlanetScaleTransport } from './planetscale-transport.ts'
export type { Fetch, FetchInit, FetchResponse } from './web-platform.ts'
