/** The settings of the killed runs, shared by the parent (its uninterrupted reference run) and the child. */
export const KILL_RUN_SETTINGS = {
  train: { epochs: 20, saveEvery: 1 },
  pretrain: { epochs: 8, saveEvery: 1 },
} as const;
