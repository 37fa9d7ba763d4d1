/** A corpus of malformed safetensors files: each must fail with a one-line CheckpointError saying what and where. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CheckpointError } from "../../src/errors.ts";
import { parseSafetensors } from "../../src/io/safetensors.ts";

const enc = new TextEncoder();

/** A file with `header` (an object, or raw header text), `dataLength` data bytes and optionally a lying length field. */
function file(header: unknown, dataLength = 16, declared?: bigint): Uint8Array {
  const json = typeof header === "string" ? enc.encode(header) : enc.encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataLength);
  new DataView(out.buffer).setBigUint64(0, declared ?? BigInt(json.length), true);
  out.set(json, 8);
  return out;
}
const f32 = (shape: unknown, offsets: unknown, dtype: unknown = "F32") => ({ dtype, shape, data_offsets: offsets });
const good = { a: f32([2], [0, 8]), b: f32([2], [8, 16]) };
/** The header text length of `header`, so expected byte offsets below can be written as formulas. */
const len = (header: unknown) => enc.encode(JSON.stringify(header)).length;

const cases: [string, Uint8Array, string][] = [
  ["empty file", new Uint8Array(0), "m.st: file is 0 bytes, too short for the 8-byte header length at byte 0"],
  ["7 bytes", new Uint8Array(7), "m.st: file is 7 bytes, too short for the 8-byte header length at byte 0"],
  ["header length past the end", file(good, 16, 4096n), `m.st: header length 4096 at byte 0 runs past the end of the file (${8 + len(good) + 16} bytes)`],
  ["header length over the cap", file(good, 16, 2n ** 63n), "m.st: header length 9223372036854775808 at byte 0 exceeds the 100000000-byte limit"],
  ["header not UTF-8", file('{"a":1}', 0).map((b, i) => (i === 10 ? 0xff : b)), "m.st: header at bytes 8–15 is not valid UTF-8"],
  ["bad JSON", file('{"a": {"dtype": "F32",}}', 0), "m.st: header at bytes 8–32 is not valid JSON: Expected double-quoted property name at byte 30"],
  ["truncated JSON", file('{"a": ', 0), "m.st: header at bytes 8–14 is not valid JSON: Unexpected end of JSON input"],
  ["junk after the JSON", file("{} x", 0), "m.st: header at bytes 8–12 is not valid JSON: Unexpected non-whitespace character after JSON at byte 11"],
  ["header is an array", file([1, 2], 0), "m.st: header at bytes 8–13 is a JSON array, not a JSON object"],
  ["header is null", file("null", 0), "m.st: header at bytes 8–12 is null, not a JSON object"],
  ["duplicate tensor name", file('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', 1),
    "m.st: header at bytes 8–113: key 'a' appears twice (again at byte 61)"],
  ["duplicate field inside an entry", file('{"w":{"dtype":"U8","dtype":"F32","shape":[1],"data_offsets":[0,1]}}', 1),
    "m.st: header at bytes 8–75: key 'dtype' appears twice (again at byte 27)"],
  ["metadata not an object", file({ __metadata__: ["x"] }, 0), "m.st: header at bytes 8–30: __metadata__ is a JSON array, not an object of strings"],
  ["metadata value not a string", file({ __metadata__: { step: 3 } }, 0), "m.st: header at bytes 8–35: __metadata__ entry 'step' is a number, not a string"],
  ["empty tensor name", file({ "": f32([0], [0, 0]) }, 0), `m.st: header at bytes 8–${8 + len({ "": f32([0], [0, 0]) })}: a tensor has an empty name`],
  ["entry not an object", file({ w: 5 }, 0), "m.st: tensor 'w': header entry is a number, not an object"],
  ["unknown dtype", file({ w: f32([2], [0, 8], "F33") }, 8), "m.st: tensor 'w': unknown dtype \"F33\""],
  ["dtype not a string", file({ w: f32([2], [0, 8], 4) }, 8), "m.st: tensor 'w': unknown dtype 4"],
  ["unsupported dtype", file({ w: f32([2], [0, 8], "U32") }, 8), "m.st: tensor 'w': dtype U32 is not supported"],
  ["negative shape", file({ w: f32([-1, 2], [0, 8]) }, 8), "m.st: tensor 'w': shape [-1,2] is not a list of non-negative integers"],
  ["non-integer shape", file({ w: f32([2.5], [0, 8]) }, 8), "m.st: tensor 'w': shape [2.5] is not a list of non-negative integers"],
  ["shape not a list", file({ w: f32("2", [0, 8]) }, 8), "m.st: tensor 'w': shape \"2\" is not a list of non-negative integers"],
  ["missing data_offsets", file({ w: { dtype: "F32", shape: [2] } }, 8), "m.st: tensor 'w': data_offsets undefined is not a pair of non-negative integers"],
  ["three offsets", file({ w: f32([2], [0, 8, 9]) }, 8), "m.st: tensor 'w': data_offsets [0,8,9] is not a pair of non-negative integers"],
  ["negative offset", file({ w: f32([2], [-8, 0]) }, 8), "m.st: tensor 'w': data_offsets [-8,0] is not a pair of non-negative integers"],
  ["begin after end", file({ w: f32([0], [8, 0]) }, 8), "m.st: tensor 'w': data_offsets [8, 0]: begin is after end"],
  ["size mismatch", file({ "encoder.layer.0.query.weight": f32([32, 32], [0, 4000]) }, 4000),
    "m.st: tensor 'encoder.layer.0.query.weight': shape [32, 32] × F32 needs 4096 bytes but data_offsets [0, 4000] span 4000"],
  ["huge declared shape (must not allocate)", file({ w: f32([2 ** 50, 2 ** 50, 2 ** 50], [0, 8]) }, 8),
    `m.st: tensor 'w': shape [${2 ** 50}, ${2 ** 50}, ${2 ** 50}] × F32 needs ${4n * 2n ** 150n} bytes but data_offsets [0, 8] span 8`],
  ["offsets past the data", file({ w: f32([2], [1000, 1008]) }, 8),
    `m.st: tensor 'w': data at bytes ${8 + len({ w: f32([2], [1000, 1008]) }) + 1000}–${8 + len({ w: f32([2], [1000, 1008]) }) + 1008} runs past the end of the file (${8 + len({ w: f32([2], [1000, 1008]) }) + 8} bytes)`],
  ["truncated data", file(good, 12), `m.st: tensor 'b': data at bytes ${8 + len(good) + 8}–${8 + len(good) + 16} runs past the end of the file (${8 + len(good) + 12} bytes)`],
  ["overlapping offsets", file({ a: f32([2], [0, 8]), b: f32([2], [4, 12]) }, 12),
    `m.st: tensor 'b': data at bytes ${8 + len({ a: f32([2], [0, 8]), b: f32([2], [4, 12]) }) + 4}–${8 + len({ a: f32([2], [0, 8]), b: f32([2], [4, 12]) }) + 12} overlaps tensor 'a' at bytes ${8 + len({ a: f32([2], [0, 8]), b: f32([2], [4, 12]) })}–${8 + len({ a: f32([2], [0, 8]), b: f32([2], [4, 12]) }) + 8}`],
  ["BOOL byte not 0/1", file({ m: f32([2], [0, 2], "BOOL") }, 2).map((b, i, all) => (i === all.length - 1 ? 7 : b)),
    `m.st: tensor 'm': data at bytes ${8 + len({ m: f32([2], [0, 2], "BOOL") })}–${8 + len({ m: f32([2], [0, 2], "BOOL") }) + 2}: byte 1 of the data is 7, not a BOOL (0 or 1)`],
  ["name with a line break stays on one line", file({ "evil\nname": f32([1], [0, 8]) }, 8),
    "m.st: tensor 'evil\\u000aname': shape [1] × F32 needs 4 bytes but data_offsets [0, 8] span 8"],
];

for (const [what, bytes, message] of cases) {
  test(`malformed: ${what}`, () => {
    assert.throws(() => parseSafetensors(bytes, "m.st"), (e: unknown) => {
      assert.ok(e instanceof CheckpointError, `not a CheckpointError: ${String(e)}`);
      assert.doesNotMatch(e.message, /[\n\r\u2028\u2029]/);
      assert.equal(e.message, message);
      return true;
    });
  });
}

test("a valid file with zero-length tensors at shared offsets, gaps and padding parses", () => {
  const header = { e: f32([0, 4], [8, 8]), a: f32([2], [0, 8]), b: f32([1], [12, 16]), __metadata__: { k: "v" } };
  const { tensors, metadata } = parseSafetensors(file(JSON.stringify(header) + "   ", 16));
  assert.deepEqual(metadata, { k: "v" });
  assert.deepEqual([...tensors.keys()], ["e", "a", "b"]);
  assert.deepEqual(tensors.get("e")!.shape, [0, 4]);
});

test("'__proto__' names are plain keys", () => {
  const { tensors, metadata } = parseSafetensors(file('{"__metadata__":{"__proto__":"x"},"__proto__":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', 1));
  assert.equal(Object.getPrototypeOf(metadata), Object.prototype);
  assert.equal(metadata["__proto__"], "x");
  assert.deepEqual(tensors.get("__proto__")!.shape, [1]);
});
