// The page's live connection: the operator SUBSCRIBE stream of the master that served the
// page. Events go to `onEvent`; when the stream breaks the page says so in a banner and
// retries with a doubling wait (1 s up to 10 s; every second while an election is on; "Try now" retries at once). Before each
// retry it asks who leads: this master (`leader`, same origin) if it still answers, else
// every peer it learnt from the overview (`<peer>/master/leader`, the only requests to
// another origin, and only after the master stopped answering). When another master
// leads, the page moves there, keeping its route.

import { leader, subscribe, HttpError } from "./api.js";

const HEARTBEAT_GRACE_MS = 50_000; // three missed 15 s heartbeats and a bit
const PROBE_TIMEOUT_MS = 2_000;

export class Live {
  constructor({ onEvent, onStatus }) {
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.peers = [];
    this.attempt = 0;
    this.wake = null;
  }

  /** The masters to look for a leader among when this one is gone (`ip:port`). */
  setPeers(peers) {
    if (Array.isArray(peers) && peers.length) this.peers = peers.slice(0, 16);
  }

  /** Retries now instead of waiting. */
  retryNow() {
    if (this.wake) this.wake();
  }

  async run() {
    try {
      this.setPeers((await withTimeout((signal) => leader("", signal))).peers);
    } catch (_) {
      // Learnt from the overview later, or when this master answers again.
    }
    for (;;) {
      const controller = new AbortController();
      let watchdog = null;
      const feed = () => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => controller.abort(), HEARTBEAT_GRACE_MS);
      };
      try {
        feed();
        await subscribe((event) => {
          feed();
          this.attempt = 0;
          this.onStatus({ kind: "live" });
          this.onEvent(event);
        }, controller.signal);
      } catch (e) {
        if (e instanceof HttpError && e.status === 401) {
          this.onStatus({ kind: "unauthorized" });
        }
      } finally {
        clearTimeout(watchdog);
      }
      const target = await this.findLeader();
      if (target && target.moveTo) {
        this.onStatus({ kind: "moving", to: target.moveTo });
        location.assign(`${location.protocol}//${target.moveTo}${location.pathname}${location.hash}`);
        return;
      }
      // An election takes seconds: look again every second while one is under way; a
      // master that does not answer is asked less and less often (up to every 10 s).
      const noLeader = Boolean(target && target.noLeader);
      const wait = noLeader ? 1000 : Math.min(10_000, 1000 * 2 ** this.attempt);
      this.attempt += 1;
      this.onStatus({ kind: noLeader ? "no-leader" : "reconnecting", waitMs: wait });
      await new Promise((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, wait);
      });
      this.wake = null;
    }
  }

  /** `{here}` when this master leads, `{moveTo}` another's address, `{noLeader}`, or null. */
  async findLeader() {
    try {
      const mine = await withTimeout((signal) => leader("", signal));
      this.setPeers(mine.peers);
      return judge(mine);
    } catch (_) {
      // This master does not answer: ask its peers.
    }
    for (const peer of this.peers) {
      if (peer === location.host) continue;
      try {
        const theirs = await withTimeout((signal) => leader(`${location.protocol}//${peer}`, signal));
        const verdict = judge(theirs, peer);
        if (verdict && verdict.moveTo) return verdict;
      } catch (_) {
        // Down too; try the next.
      }
    }
    return null;
  }
}

function judge(info, answeredBy) {
  const address = info.leader_address;
  if (!answeredBy && info.elected) return { here: true };
  if (!address) return { noLeader: true };
  if (address === location.host) {
    // This master: leading (it answered) or gone (a peer still names it until its
    // election timeout): wait for the election either way rather than move to it.
    return answeredBy ? { noLeader: true } : { here: true };
  }
  return { moveTo: address };
}

async function withTimeout(f) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), PROBE_TIMEOUT_MS);
  try {
    return await f(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}
