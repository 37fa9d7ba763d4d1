// A node:test reporter: node's dot reporter, then every skipped test with its reason (and every failed one by name),
// then one line — "tests: 812 passed, 0 failed, 3 skipped (412.3 s)". It counts leaf tests: a test with subtests and
// a describe() suite are containers, not tests; a test file that crashes outside any test counts as one failure.
// Node's runner still sets the exit code. It wraps the dot reporter rather than running beside it: two reporters
// writing to stdout at once print their endings in either order, and the summary must be the last line.
import { relative } from "node:path";
import { performance } from "node:perf_hooks";
import { dot } from "node:test/reporters";

/** A skip or todo reason as given, or a placeholder where the test gave none (`skip: true`). */
function reason(value) {
  return typeof value === "string" && value !== "" ? value : "no reason given";
}

/** Whether a skip/todo field is set (`true` or a reason). */
function isSet(value) {
  return value !== undefined && value !== false;
}

/** Counts and lists the leaf tests of a run, event by event. */
class Tally {
  counts = { passed: 0, failed: 0, skipped: 0, todo: 0 };
  listed = { skipped: [], todo: [], failed: [] };
  /** The run's duration from node's final diagnostics (null until they arrive). */
  runMs = null;
  started = performance.now();
  // Per file: the names of the tests being reported, by nesting (test:start comes in definition order), and how many
  // tests finished one level below each open test (a test that had any is a container, not a leaf).
  paths = new Map();
  finishedBelow = new Map();

  /** Takes one event of the runner's stream. */
  add(event) {
    const data = event.data ?? {};
    if (event.type === "test:diagnostic" && data.nesting === 0) {
      const m = /^duration_ms ([\d.]+)$/.exec(data.message ?? "");
      if (m) this.runMs = Number(m[1]);
    } else if (event.type === "test:start") {
      const path = this.paths.get(data.file) ?? [];
      path.length = data.nesting;
      path.push(data.name);
      this.paths.set(data.file, path);
    } else if (event.type === "test:pass" || event.type === "test:fail") {
      this.finished(event.type === "test:fail", data);
    }
  }

  /** A test finished: counted where it is a leaf. */
  finished(failed, data) {
    const below = this.finishedBelow.get(data.file) ?? [];
    this.finishedBelow.set(data.file, below);
    const hadSubtests = (below[data.nesting + 1] ?? 0) > 0;
    below[data.nesting + 1] = 0;
    below[data.nesting] = (below[data.nesting] ?? 0) + 1;
    if (hadSubtests || data.details?.type === "suite") return;
    // A file that fails outside its tests is reported as a test named by the file's path.
    const name = data.name === data.file ? "(outside any test)" : [...(this.paths.get(data.file) ?? []).slice(0, data.nesting), data.name].join(" › ");
    const where = `${data.file ? relative(process.cwd(), data.file) : "?"} › ${name}`;
    if (isSet(data.todo)) {
      this.counts.todo++;
      this.listed.todo.push(`${where}: ${reason(data.todo)}`);
    } else if (isSet(data.skip)) {
      this.counts.skipped++;
      this.listed.skipped.push(`${where}: ${reason(data.skip)}`);
    } else if (failed) {
      this.counts.failed++;
      this.listed.failed.push(where);
    } else {
      this.counts.passed++;
    }
  }

  /** The listings and the final line. */
  summary() {
    const lines = [""];
    for (const kind of ["skipped", "todo", "failed"]) for (const line of this.listed[kind]) lines.push(`${kind}: ${line}`);
    const { passed, failed, skipped, todo } = this.counts;
    const seconds = ((this.runMs ?? performance.now() - this.started) / 1000).toFixed(1);
    lines.push(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped${todo > 0 ? `, ${todo} todo` : ""} (${seconds} s)`);
    return `${lines.join("\n")}\n`;
  }
}

/** The reporter: node's runner calls it with the stream of events and writes what it yields. */
export default async function* testSummary(source) {
  const tally = new Tally();
  async function* observed() {
    for await (const event of source) {
      tally.add(event);
      yield event;
    }
  }
  yield* dot(observed());
  yield tally.summary();
}
