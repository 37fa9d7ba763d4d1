/** Reference matrix product: the definition C[i,j] = Σ_p A[i,p]·B[p,j], summed in double precision. */
import type { MatmulParams } from "../backend.ts";
import { unary } from "./elementwise.ts";

/** Batched C = op(A)·op(B); see MatmulParams. */
export function matmul(a: Float32Array, b: Float32Array, c: Float32Array, p: MatmulParams): void {
  const { batch, m, n, k, transA, transB, strideA, strideB, accumulate } = p;
  const bias = p.bias ?? null;
  if (p.activation && accumulate) throw new Error("reference backend: matmul cannot both accumulate and apply an activation");
  // op(A)[i, q] = a[i·aRow + q·aCol]; op(B)[q, j] = b[q·bRow + j·bCol]
  const aRow = transA ? 1 : k;
  const aCol = transA ? m : 1;
  const bRow = transB ? 1 : n;
  const bCol = transB ? k : 1;
  const row = new Float64Array(n);
  for (let bi = 0; bi < batch; bi++) {
    const aOff = bi * strideA;
    const bOff = bi * strideB;
    const cOff = bi * m * n;
    for (let i = 0; i < m; i++) {
      const aStart = aOff + i * aRow;
      if (transB) {
        // dot-product order: both rows contiguous when B is stored transposed (a Linear weight)
        for (let j = 0; j < n; j++) {
          const bStart = bOff + j * bCol;
          let sum = 0;
          for (let q = 0; q < k; q++) sum += a[aStart + q * aCol] * b[bStart + q];
          row[j] = sum;
        }
      } else {
        // i-p-j order: the inner loop runs along a contiguous row of B
        row.fill(0);
        for (let q = 0; q < k; q++) {
          const av = a[aStart + q * aCol];
          if (av === 0) continue;
          const bStart = bOff + q * bRow;
          for (let j = 0; j < n; j++) row[j] += av * b[bStart + j];
        }
      }
      if (bias) for (let j = 0; j < n; j++) row[j] += bias[j];
      const cRow = cOff + i * n;
      if (accumulate) for (let j = 0; j < n; j++) c[cRow + j] += row[j];
      else for (let j = 0; j < n; j++) c[cRow + j] = row[j];
    }
  }
  if (p.activation) {
    const all = c.subarray(0, batch * m * n);
    unary(p.activation, all, all);
  }
}
