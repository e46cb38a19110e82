/**
 * The words of a text, as every backend is made to see them: NFKD, combining marks removed,
 * lower case, anything that is not a Unicode letter or digit (underscore included) a separator.
 * RediSearch, InnoDB FULLTEXT and FTS5 tokenise differently (newlines, `_`, punctuation,
 * diacritics, case); normalising in TS, for documents and query terms alike, gives them one set of
 * words, so the backends can only differ in which words they index (stopwords, lengths), and the
 * SQL translations check those themselves.
 */
export function textWords(text: string): string[] {
  const normal = text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
  return normal === '' ? [] : normal.split(' ')
}

/** The normalised text itself: its words joined by single spaces (what a backend stores). */
export function normalizeText(text: string): string {
  return textWords(text).join(' ')
}
