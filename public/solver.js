// The join's proof-of-work, solved off the page's thread (README, "Bots and accounts").
// The line's page (its `JoinSolver` island) posts "<bound> <challenge>": the level's bound
// on the counter and the challenge the room made (base64url of ALTCHA v2 JSON, SHA-256).
// It gets back, as text:
//   "p:<0..1>"              now and then, for the progress bar;
//   "s:<ms>:<solution>"     how long the search took, and the `solution` form field
//                           (base64url of {challenge, solution});
//   "f:<reason>"            when this browser cannot (the page falls back to waiting).
// The search: the counter whose SHA-256(salt ‖ nonce ‖ counter as 4 big-endian bytes)
// starts with keyPrefix, trying counters from 0; hashes run in batches through the
// browser's own SHA-256 (WebCrypto), which works in a batch's digests together.

const BATCH = 512;

function fromB64url(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  return atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
}

function toB64url(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromHex(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function solve(bound, header) {
  const challenge = JSON.parse(fromB64url(header));
  const p = challenge.parameters;
  if (p.algorithm !== "SHA-256" || p.cost !== 1 || p.keyPrefix.length % 2 !== 0) {
    throw new Error("a challenge this page cannot solve");
  }
  const head = new Uint8Array([...fromHex(p.salt), ...fromHex(p.nonce)]);
  const prefix = fromHex(p.keyPrefix);
  const started = performance.now();
  let lastReport = started;
  for (let base = 0; base < bound; base += BATCH) {
    const inputs = [];
    for (let c = base; c < base + BATCH; c++) {
      const input = new Uint8Array(head.length + 4);
      input.set(head);
      new DataView(input.buffer).setUint32(head.length, c, false);
      inputs.push(crypto.subtle.digest("SHA-256", input));
    }
    const keys = await Promise.all(inputs);
    for (let i = 0; i < keys.length; i++) {
      const key = new Uint8Array(keys[i]).subarray(0, p.keyLength);
      if (prefix.every((b, j) => key[j] === b)) {
        const ms = performance.now() - started;
        const solution = { counter: base + i, derivedKey: toHex(key), time: Math.round(ms) };
        return `s:${Math.round(ms)}:${toB64url(JSON.stringify({ challenge, solution }))}`;
      }
    }
    const now = performance.now();
    if (now - lastReport > 100) {
      lastReport = now;
      postMessage(`p:${Math.min(1, base / bound).toFixed(3)}`);
    }
  }
  throw new Error("no solution found");
}

onmessage = async (event) => {
  try {
    if (!self.crypto || !crypto.subtle) throw new Error("no WebCrypto here");
    const [bound, header] = String(event.data).split(" ");
    postMessage(await solve(Number(bound), header));
  } catch (e) {
    postMessage(`f:${e && e.message ? e.message : e}`);
  }
};
