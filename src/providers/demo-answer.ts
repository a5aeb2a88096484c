/** The demo model's answer and reasoning text: plain prose, chosen deterministically by the prompt. */

/** Longest stretch of the prompt quoted back in the answer, in words. */
const TOPIC_WORDS = 6;

// Every opener has an em dash and every closer an accented letter, so each answer exercises
// multi-byte UTF-8 on its way to the browser.
const OPENERS = [
  "Here is a short take on {topic} — written by the offline demo model, so treat it as a sketch rather than a source.",
  "Good question about {topic} — this answer comes from the built-in demo model, which needs no network and no key.",
];

const FRAMING = [
  "The first thing to notice is that most questions like this have a simple core and a long tail of details.",
  "It usually helps to separate what is known for certain from what is a matter of taste or context.",
];

const MIDDLE = [
  "In practice, the details depend on your constraints: time, budget, and how much risk you can accept.",
  "Experienced practitioners tend to start simple, measure what happens, and only then add complexity.",
  "There is rarely a single right answer; there are trade-offs, and naming them clearly is half the work.",
];

const WRAP_UP = [
  "If you want to go further, pick one aspect of {topic} and explore it in depth rather than skimming.",
  "Above all, stay curious and patient: understanding grows in layers, not in a single leap.",
];

const CLOSERS = [
  "That is the gist: a naïve summary, perhaps, but a decent place to start over a café au lait.",
  "Consider this a brief résumé of the subject; a real model would add the facts this demo cannot know.",
];

/** How the demo plans its answer. */
const PLAN =
  "I know no facts offline, so I will frame it, give three practical points and close — short paragraphs, plain words.";

/**
 * The answer to `prompt`: three paragraphs separated by blank lines, 150 to 190 words, the
 * same every time for the same prompt (the prompt seeds the order of the sentences and which
 * opener and closer). Never ends with whitespace.
 */
export function demoAnswer(prompt: string): string {
  const random = mulberry32(fnv1a(prompt));
  const pick = (bank: readonly string[], count: number) => shuffled(bank, random).slice(0, count);
  const paragraphs = [
    [...pick(OPENERS, 1), ...pick(FRAMING, 2)],
    pick(MIDDLE, 3),
    [...pick(WRAP_UP, 2), ...pick(CLOSERS, 1)],
  ];
  const topic = quoteTopic(prompt);
  return paragraphs
    .map((sentences) => sentences.join(" ").replaceAll("{topic}", topic))
    .join("\n\n");
}

/**
 * What the demo "thinks" before it answers `prompt`: two sentences, its topic and how it will
 * answer, with a multi-byte character. Never ends with whitespace.
 */
export function demoReasoning(prompt: string): string {
  return `The question is about ${quoteTopic(prompt)}. ${PLAN}`;
}

/** The first words of the prompt in curly quotes, or a stand-in for an empty prompt. */
function quoteTopic(prompt: string): string {
  const words = prompt.split(/\s+/).filter(Boolean);
  if (words.length === 0) return "your question";
  const head = words
    .slice(0, TOPIC_WORDS)
    .join(" ")
    .replace(/[?!.,;:]+$/, "");
  return `“${head}${words.length > TOPIC_WORDS ? " …" : ""}”`;
}

/** A copy of `items` in a random order drawn from `random` (Fisher-Yates). */
function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const a = copy[i];
    const b = copy[j];
    if (a !== undefined && b !== undefined) [copy[i], copy[j]] = [b, a];
  }
  return copy;
}

/** 32-bit FNV-1a hash of `text`'s UTF-16 code units: a seed that depends on the whole prompt. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * The mulberry32 PRNG: small, fast, and the same seed always gives the same sequence in [0, 1).
 * It varies the demo's sentences; the tests' seeded re-chunking uses it too.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
