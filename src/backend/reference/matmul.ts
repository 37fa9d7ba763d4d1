/** Reference matrix product: the definition C[i,j] = Σ_p A[i,p]·B[p,j], summed in double precision. */
import type { MatmulParams } from "../backend.ts";

/** Batched C = op(A)·op(B); see MatmulParams. */
export function matmul(a: Float32Array, b: Float32Array, c: Float32Array, p: MatmulParams): void {
  const { batch, m, n, k, transA, transB, strideA, strideB, accumulate } = p;
  const row = new Float64Array(n);
  for (let bi = 0; bi < batch; bi++) {
    const aOff = bi * strideA;
    const bOff = bi * strideB;
    const cOff = bi * m * n;
    for (let i = 0; i < m; i++) {
      row.fill(0);
      // Loop order i-p-j keeps the inner loop on contiguous memory for the untransposed B,
      // and the dot-product order j-p does the same when B is transposed (a Linear weight).
      if (transB) {
        for (let j = 0; j < n; j++) {
          let sum = 0;
          const bRow = bOff + j * k;
          for (let q = 0; q < k; q++) sum += (transA ? a[aOff + q * m + i] : a[aOff + i * k + q]) * b[bRow + q];
          row[j] = sum;
        }
      } else {
        for (let q = 0; q < k; q++) {
          const av = transA ? a[aOff + q * m + i] : a[aOff + i * k + q];
          if (av === 0) continue;
          const bRow = bOff + q * n;
          for (let j = 0; j < n; j++) row[j] += av * b[bRow + j];
        }
      }
      const cRow = cOff + i * n;
      if (accumulate) for (let j = 0; j < n; j++) c[cRow + j] += row[j];
      else for (let j = 0; j < n; j++) c[cRow + j] = row[j];
    }
  }
}
