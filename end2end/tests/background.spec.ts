import { test, expect, APIRequestContext, BrowserContext, Page } from "@playwright/test";
import { apiJoin, apiLeave, uniqueEvent } from "./helpers";

// A visitor who looked away (README, "Your turn, in the background"): with JavaScript, a
// page in a hidden tab polls slower, and when the turn comes its title and icon change
// and, if the visitor asked by a click, a notification appears and a sound plays; a
// visitor skipped for not polling who comes back within the grace is let in next.
//
// Headless Chromium shows every page, so the test hides the tab itself: `document.hidden`
// answers what the test says, and a `visibilitychange` event is sent as the browser would.
// Notifications are granted to the page, and each one the page makes is recorded. The
// page's timers run on Playwright's clock, moved by the test: polls are counted per
// stretch of the page's time, not of the machine's.

async function spyOnTheTab(page: Page) {
  await page.addInitScript(() => {
    const w = window as any;
    let hidden = false;
    Object.defineProperty(Document.prototype, "hidden", { get: () => hidden, configurable: true });
    Object.defineProperty(Document.prototype, "visibilityState", {
      get: () => (hidden ? "hidden" : "visible"),
      configurable: true,
    });
    w.__setHidden = (value: boolean) => {
      hidden = value;
      document.dispatchEvent(new Event("visibilitychange", { bubbles: true }));
    };
    w.__notes = [];
    const Real = w.Notification;
    class Recorded extends Real {
      constructor(title: string, options?: NotificationOptions) {
        super(title, options);
        w.__notes.push({ title, body: options?.body, icon: options?.icon });
      }
    }
    Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
    w.Notification = Recorded;
    // Sounds the page plays (headless Chromium plays them to no speaker).
    w.__sounds = [];
    const play = HTMLMediaElement.prototype.play;
    HTMLMediaElement.prototype.play = function () {
      w.__sounds.push(new URL(this.src).pathname);
      return play.call(this).catch(() => undefined);
    };
  });
}

/** Steps the page's clock a quarter second at a time until the page sends its next poll
 * (at most `limit` ms of page time), waits for the answer, and returns the page time the
 * poll took to come. */
async function nextPoll(page: Page, limit: number): Promise<number> {
  let sent = false;
  const onRequest = (r: { url(): string }) => {
    if (r.url().includes("/api/get_status")) sent = true;
  };
  page.on("request", onRequest);
  const answered = page.waitForResponse((r) => r.url().includes("/api/get_status"));
  let waited = 0;
  while (!sent && waited < limit) {
    await page.clock.runFor(250);
    waited += 250;
    await page.evaluate(() => 0); // let the page start what the timers began
  }
  page.off("request", onRequest);
  if (!sent) return Infinity;
  await answered;
  await page.evaluate(() => 0);
  return waited;
}

type Place = { sessionId: string; eventId: string };

/** The page of `me`, next in line behind `holder` (capacity 1: holder is ACTIVE), hydrated,
 * with notifications granted, the tab spied on and the page's clock installed. */
async function watchNextInLine(
  page: Page,
  context: BrowserContext,
  request: APIRequestContext,
  baseURL: string | undefined,
  prefix: string,
): Promise<{ holder: Place; me: Place }> {
  await context.grantPermissions(["notifications"], { origin: baseURL });
  await spyOnTheTab(page);
  await page.clock.install();
  const event = uniqueEvent(prefix);
  const holder = await apiJoin(request, event, "holder");
  const me = await apiJoin(request, event, "me");
  await page.goto(`/queue/${me.sessionId}`);
  await expect(page.locator(".live")).toHaveAttribute("data-hydrated", "true");
  return { holder, me };
}

/** The holder leaves; returns once the room has admitted `me` (the page learns it by its
 * own next poll). */
async function turnComes(request: APIRequestContext, holder: Place, me: Place) {
  await apiLeave(request, holder.sessionId);
  await expect
    .poll(async () => (await (await request.get(`/api/waiting-room/sessions/${me.sessionId}`)).json()).status)
    .toBe("ACTIVE");
}

test("a hidden tab polls slower, and is told by title, icon and notification when its turn comes", async ({
  page,
  context,
  request,
  baseURL,
}) => {
  const { holder, me } = await watchNextInLine(page, context, request, baseURL, "bg");
  await expect(page.getByTestId("status")).toHaveText("WAITING");

  // Opting in: one click.
  const ask = page.getByTestId("notify");
  await expect(ask).toHaveText("Notify me when it's my turn");
  await ask.click();
  await expect(ask).toBeDisabled();
  await expect(ask).toContainText("This browser will notify you");
  const chime = page.getByTestId("sound");
  await expect(chime).toHaveText("Play a sound when it's my turn");
  await chime.click();
  await expect(chime).toBeDisabled();
  await expect(chime).toContainText("This page will play a sound");

  // Shown, next in line: the page polls twice a second (the server's pace).
  await nextPoll(page, 5_000);
  expect(await nextPoll(page, 5_000)).toBeLessThanOrEqual(750);
  // Hidden: the first poll while hidden (the one already set for the shown page, or,
  // when the page had not set it yet, the first at the hidden pace), and from it to the
  // next, the hidden pace (30 s with the default abandonment of 120 s; a step or so more
  // when the page answers a poll while the clock moves).
  await page.evaluate(() => (window as any).__setHidden(true));
  await nextPoll(page, 40_000);
  const hiddenPace = await nextPoll(page, 40_000);
  expect(hiddenPace).toBeGreaterThanOrEqual(29_000);
  expect(hiddenPace).toBeLessThanOrEqual(33_000);

  // The turn comes while hidden: the next poll finds it.
  await turnComes(request, holder, me);
  expect(await nextPoll(page, 40_000)).toBeLessThanOrEqual(33_000);
  await expect(page.getByTestId("status")).toHaveText("ACTIVE");
  await expect(page).toHaveTitle(/^\u{1F514} It's your turn!/u);
  await expect(page.locator("link[rel=icon]")).toHaveAttribute("href", "/favicon-turn.svg");
  const notes = await page.evaluate(() => (window as any).__notes);
  expect(notes).toEqual([
    {
      title: "It's your turn! You're in.",
      body: "Your slot is held for you now; keep this page open.",
      icon: "/favicon-turn.svg",
    },
  ]);
  expect(await page.evaluate(() => (window as any).__sounds)).toEqual(["/turn.wav"]);
  // The chime is served by the room.
  const wav = await request.get("/turn.wav");
  expect(wav.status()).toBe(200);
  expect(wav.headers()["content-type"]).toContain("audio/");
});

test("a visitor who did not ask gets the title and icon but no notification nor sound", async ({
  page,
  context,
  request,
  baseURL,
}) => {
  const { holder, me } = await watchNextInLine(page, context, request, baseURL, "bg-quiet");
  await page.evaluate(() => (window as any).__setHidden(true));
  await turnComes(request, holder, me);
  // The poll that finds it (the one set for the shown page, or the hidden pace's).
  await nextPoll(page, 40_000);
  if ((await page.getByTestId("status").textContent()) !== "ACTIVE") await nextPoll(page, 40_000);
  await expect(page.getByTestId("status")).toHaveText("ACTIVE");
  await expect(page).toHaveTitle(/^\u{1F514} /u);
  expect(await page.evaluate(() => (window as any).__notes)).toEqual([]);
  expect(await page.evaluate(() => (window as any).__sounds)).toEqual([]);
});

test("a visitor skipped for not polling who comes back within the grace is let in next", async ({
  page,
  context,
  request,
  baseURL,
}) => {
  // The room skips a place not polled for its abandonment period (120 s here, the default):
  // this test waits that long in real time, keeping the others' places alive meanwhile.
  test.setTimeout(300_000);
  const { holder, me } = await watchNextInLine(page, context, request, baseURL, "bg-grace");
  await expect(page.getByTestId("status")).toHaveText("WAITING");
  const event = me.eventId;
  const next = await apiJoin(request, event, "next");
  const later = await apiJoin(request, event, "later");
  const status = async (s: Place) =>
    (await (await request.get(`/api/waiting-room/sessions/${s.sessionId}`)).json());
  const grace = (await status(next)).grace;
  expect(grace).toEqual({ seconds: 300, returned: false });

  // The page's clock stands still: it sends no poll, as a phone asleep. The others poll.
  await page.clock.pauseAt(Date.now() + 1_000);
  const silentSince = Date.now();
  while (Date.now() - silentSince < 125_000) {
    expect((await status(next)).status).toBe("WAITING");
    expect((await status(later)).status).toBe("WAITING");
    await page.waitForTimeout(5_000);
  }
  // Its turn comes while it is away: skipped, `next` goes in.
  await apiLeave(request, holder.sessionId);
  await expect.poll(async () => (await status(next)).status).toBe("ACTIVE");

  // The phone wakes: the page's next poll gives the turn back, ahead of `later`.
  await nextPoll(page, 40_000);
  await expect(page.getByTestId("status")).toHaveText("WAITING");
  await expect(page.locator(".live")).toContainText("Welcome back: your turn was kept");
  await expect(page.locator(".live")).toContainText("Number 1 in line");
  const back = await status(me);
  expect(back.grace).toEqual({ seconds: 0, returned: true });
  expect((await status(later)).position).toBe(2);

  // The next free slot is its.
  await apiLeave(request, next.sessionId);
  await expect.poll(async () => (await status(me)).status).toBe("ACTIVE");
  expect((await status(later)).status).toBe("WAITING");
  await nextPoll(page, 40_000);
  await expect(page.getByTestId("status")).toHaveText("ACTIVE");
});
