/** Example sentences one click away; the first is Q01's ("it" should attend to "animal"). */
export const EXAMPLES: readonly string[] = [
  "The animal didn't cross the street because it was too tired",
  "A gorgeous, witty, seductive movie.",
  "The plot is paper-thin and the acting is even worse.",
  "Not bad at all, though the ending drags on.",
];

/** Fill-mask examples: one [MASK], two, and a sentence without one (click a token to mask it). */
export const FILL_EXAMPLES: readonly string[] = [
  "the [MASK] was great .",
  "he went to the [MASK] to buy some bread .",
  "she opened the [MASK] and walked [MASK] .",
  "the children were playing in the garden .",
];
