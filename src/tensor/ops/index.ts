/** The op API: every computation on tensors goes through these functions (and so through the backend and autograd). */
export * from "./elementwise.ts";
export * from "./linalg.ts";
export * from "./layout.ts";
export * from "./reduce.ts";
export * from "./nn.ts";
