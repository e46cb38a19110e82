// The transport lands here (see the package description).
export {}
