// Prints GrowthBook hash values for non-ASCII ids, hashed the way the
// JavaScript SDK does (FNV-1a 32 over charCodeAt, i.e. UTF-16 code units),
// for the fixtures in experiment_core_test.c.  Run: node unicode_hash_cases.js
"use strict";

function fnv1a32(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  }
  return h;
}

const cases = [
  ["seed", "\u00fcn\u00efc\u00f6d\u00e9"],
  ["exp-\u00df", "user-42"],
  ["", "\u7528\u6237-42"],
  ["checkout", "\u{1F600}"],
  ["na\u00efve", "\u{1F600}user\u{10348}"],
  ["", "\u{1F601}"],
  ["seed", "\u{1D4AB}layer"],
  ["\u0436\u0443\u0440\u043d\u0430\u043b", "\u0645\u0633\u062a\u062e\u062f\u0645"],
];
for (const [seed, value] of cases) {
  const v1 = (fnv1a32(value + seed) % 1000) / 1000;
  const v2 = (fnv1a32(String(fnv1a32(seed + value))) % 10000) / 10000;
  console.log(`\t{"${seed}", "${value}", ${v1}, ${v2}},`);
}
