/** The text side of tsformer: BERT's WordPiece tokenizer, its vocabulary, and compact vocabularies. */
export { type NormalizerSettings, SPECIAL_TOKENS, Vocabulary, type VocabularyOptions, DEFAULT_REQUIRED_SPECIALS } from "./vocab.ts";
export { type BasicOptions, basicTokenize, cleanText, normalizeWord, spaceChineseChars, splitOnPunctuation } from "./basic.ts";
export { isChineseChar, isControl, isPunctuation, isWhitespace, splitWhitespace, stripAccents } from "./unicode.ts";
export type { BatchEncoding, BatchOptions, EncodeOptions, Encoding, Truncation } from "./encoding.ts";
export { BertTokenizer, type BatchInput, type BertTokenizerOptions, type DecodeOptions } from "./wordpiece.ts";
export { type CompactOptions, type UnknownRate, compactVocabulary, unknownRate } from "./compact-vocab.ts";
