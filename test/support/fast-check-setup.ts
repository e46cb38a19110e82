import fc from 'fast-check'

// Without this, an arbitrary given only a `maxLength` still generates at its default size ("small":
// about ten elements), so `fc.array(op, { maxLength: 200 })` never reaches 200. Tests that bound a
// length mean that bound.
fc.configureGlobal({ defaultSizeToMaxWhenMaxSpecified: true })
