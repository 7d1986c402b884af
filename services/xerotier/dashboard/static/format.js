// Pure formatting helpers: numbers and times for people (no DOM, no network).

const trim = (x) => x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : 2).replace(/\.?0+$/, "");

/** 8030261248 → "8.03 B"; 124000000 → "124 M". */
export function formatParameters(n) {
  if (n === null || n === undefined) return "—";
  if (n >= 1e12) return `${trim(n / 1e12)} T`;
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${trim(n / 1e6)} M`;
  if (n >= 1e3) return `${trim(n / 1e3)} k`;
  return String(n);
}

/** 131072 → "128 k"; 4096 → "4 k"; 32000 → "32 k"; 512 → "512". */
export function formatContext(n) {
  if (n === null || n === undefined) return "—";
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} k`;
  if (n >= 1000) return `${trim(n / 1000)} k`;
  return String(n);
}

/** Decimal units as disks and the seed say: 16060522496 → "16.1 GB". */
export function formatBytes(n) {
  if (n === null || n === undefined) return "—";
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  if (unit === 0) return `${n} B`;
  return `${value >= 100 ? value.toFixed(0) : value.toPrecision(3)} ${units[unit]}`;
}

export function formatTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function yesNo(v) {
  return v === null || v === undefined ? "—" : v ? "yes" : "no";
}

/** Memory of a load plan as bar segments (bytes and percent of the total): weights, KV, reserve, free. */
export function memorySegments(memory) {
  const total = memory?.totalBytes || 0;
  if (!total) return [];
  const weights = memory.weightsBytes || 0;
  const kv = memory.kvCacheBytes || 0;
  const reserve = memory.reserveBytes || 0;
  const free = Math.max(0, total - weights - kv - reserve);
  return [
    ["weights", "Weights", weights],
    ["kv", "KV cache", kv],
    ["reserve", "Reserve", reserve],
    ["free", "Free", free],
  ].map(([key, label, bytes]) => ({ key, label, bytes, percent: (100 * bytes) / total }));
}

/** Lay out versions as a lineage tree: column = depth from the root, row = order of creation. */
export function lineageLayout(versions) {
  const byId = new Map(versions.map((v) => [v.id, v]));
  const depth = new Map();
  const depthOf = (v, seen = new Set()) => {
    if (depth.has(v.id)) return depth.get(v.id);
    const parent = v.parentVersionId && byId.get(v.parentVersionId);
    const d = parent && !seen.has(parent.id) ? depthOf(parent, seen.add(v.id)) + 1 : 0;
    depth.set(v.id, d);
    return d;
  };
  const ordered = [...versions].sort((a, b) => (a.createdAt || "").localeCompare(b.createdAt || ""));
  const nodes = ordered.map((v, row) => ({ version: v, col: depthOf(v), row }));
  const at = new Map(nodes.map((n) => [n.version.id, n]));
  const edges = nodes
    .filter((n) => n.version.parentVersionId && at.has(n.version.parentVersionId))
    .map((n) => ({ from: at.get(n.version.parentVersionId), to: n }));
  return { nodes, edges };
}

/** SemVer 2.0.0 precedence: negative when a < b ("1.10.0" > "1.2.0" > "1.2.0-rc.1"; build ignored). */
export function compareSemver(a, b) {
  const parse = (v) => {
    const [core, pre] = String(v).split("+")[0].split(/-(.*)/s);
    return { nums: core.split(".").map((n) => BigInt(/^\d+$/.test(n) ? n : 0)), pre: pre ? pre.split(".") : [] };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i += 1) {
    const [p, q] = [x.nums[i] ?? 0n, y.nums[i] ?? 0n];
    if (p !== q) return p < q ? -1 : 1;
  }
  if (!x.pre.length || !y.pre.length) return x.pre.length === y.pre.length ? 0 : x.pre.length ? -1 : 1;
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i += 1) {
    const [p, q] = [x.pre[i], y.pre[i]];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    const [pn, qn] = [/^\d+$/.test(p), /^\d+$/.test(q)];
    if (pn && qn) {
      if (BigInt(p) !== BigInt(q)) return BigInt(p) < BigInt(q) ? -1 : 1;
    } else if (pn !== qn) return pn ? -1 : 1;
    else if (p !== q) return p < q ? -1 : 1;
  }
  return 0;
}

/** Rows of a model list ordered by name, then version precedence, newest first. */
export function byNameThenNewest(rows) {
  return [...rows].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : compareSemver(b.version, a.version)));
}
