import { test, expect, Page, APIRequestContext } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { apiJoin, apiLeave, uniqueEvent } from "./helpers";

// The operator's console (/admin), with JavaScript on: a real server and Redis behind it,
// visitors in other browser contexts.

const ADMIN = process.env.ADMIN_TOKEN ?? "end2end-admin";

async function signIn(page: Page) {
  await page.goto("/admin");
  await page.getByLabel("Admin token").fill(ADMIN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Events" })).toBeVisible();
}

/** Creates an event through the console's form; ends on the event's page. */
async function createEvent(page: Page, event: string, capacity: number) {
  await page.goto("/admin");
  await page.getByLabel("Event id").fill(event);
  await page.getByLabel(/^Capacity/).fill(String(capacity));
  await page.getByRole("button", { name: "Create" }).click();
  await expect(page).toHaveURL(`/admin/events/${event}`);
  await expect(page.getByTestId("flash")).toHaveText("Event saved.");
  await expect(page.locator(".live[data-hydrated=true]")).toBeVisible();
}

async function status(request: APIRequestContext, sessionId: string): Promise<string> {
  const res = await request.get(`/api/waiting-room/sessions/${sessionId}`);
  return (await res.json()).status;
}

async function noViolations(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  expect(results.passes.length).toBeGreaterThan(10);
  expect(results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`)).toEqual([]);
}

test("signing in: a wrong token is refused, the right one opens the console, signing out closes it", async ({
  page,
}) => {
  await page.goto("/admin");
  await page.getByLabel("Admin token").fill("not-the-token");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("That is not the admin token.");
  await expect(page.getByRole("heading", { name: "Events" })).toHaveCount(0);
  // Nothing to read without a session, also not through the page's server functions.
  const res = await page.request.post("/api/console/history", {
    form: { event_id: "anything" },
    headers: { "sec-fetch-site": "same-origin" },
  });
  expect(res.status()).toBeGreaterThanOrEqual(400);

  await signIn(page);
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === "vestibule_console");
  expect(session?.httpOnly).toBe(true);
  expect(session?.sameSite).toBe("Strict");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByLabel("Admin token")).toBeVisible();
});

test("a new event and joins from other browsers move its figures, in place", async ({ page, browser }) => {
  const event = uniqueEvent("console");
  await signIn(page);
  await createEvent(page, event, 1);
  await expect(page.getByTestId("waiting")).toHaveText("0");
  await expect(page.getByTestId("active")).toHaveText("0 / 1");
  // Marks this document: the figures below must change without a reload.
  await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));

  for (const n of [1, 2]) {
    const visitor = await browser.newContext();
    const tab = await visitor.newPage();
    await tab.goto(`/e/${event}`);
    // The first is let in at once (standby: the event has room); the second waits.
    if (n === 2) await tab.getByRole("button", { name: "Join the line" }).click();
    await expect(tab.getByTestId("status")).toHaveText(n === 1 ? "ACTIVE" : "WAITING");
    await visitor.close();
  }
  await expect(page.getByTestId("active")).toHaveText("1 / 1", { timeout: 15_000 });
  await expect(page.getByTestId("waiting")).toHaveText("1", { timeout: 15_000 });
  await expect(page.getByTestId("admitted")).toHaveText("1");
  expect(await page.evaluate(() => (window as unknown as { stayed: boolean }).stayed)).toBe(true);

  // The events table has the event, with the same figures.
  await page.goto("/admin");
  const row = page.locator(`tr[data-event="${event}"]`);
  await expect(row.getByTestId("row-waiting")).toHaveText("1");
  await expect(row.getByTestId("row-active")).toHaveText("1 / 1");
  // The charts are drawn from the granter's samples.
  await page.goto(`/admin/events/${event}`);
  await expect(page.getByRole("img", { name: /^Line length, last hour: now 1 waiting/ })).toBeVisible({
    timeout: 15_000,
  });
});

test("pausing stops admissions; resuming and a raised capacity admit the next people at once", async ({
  page,
  request,
}) => {
  const event = uniqueEvent("steer");
  await signIn(page);
  await createEvent(page, event, 1);
  const first = await apiJoin(request, event, "first");
  const second = await apiJoin(request, event, "second");
  const third = await apiJoin(request, event, "third");
  await expect.poll(() => status(request, first.sessionId)).toBe("ACTIVE");
  expect(await status(request, second.sessionId)).toBe("WAITING");

  await page.getByRole("button", { name: "Pause admissions" }).click();
  await expect(page.getByTestId("flash")).toContainText("Paused");
  await expect(page.getByTestId("state")).toHaveText("Paused");
  await apiLeave(request, first.sessionId);
  // The freed slot stays free while paused (several granter passes).
  await page.waitForTimeout(1_500);
  expect(await status(request, second.sessionId)).toBe("WAITING");

  await page.getByRole("button", { name: "Resume admissions" }).click();
  await expect.poll(() => status(request, second.sessionId), { timeout: 3_000 }).toBe("ACTIVE");
  expect(await status(request, third.sessionId)).toBe("WAITING");

  await page.getByLabel(/^Capacity/).fill("2");
  await page.getByRole("button", { name: "Save the settings" }).click();
  await expect(page.getByTestId("flash")).toHaveText("Settings saved.");
  await expect.poll(() => status(request, third.sessionId), { timeout: 3_000 }).toBe("ACTIVE");
  await expect(page.getByTestId("active")).toHaveText("2 / 2", { timeout: 10_000 });

  // Ending a session from the console: it is LEFT, and its slot goes on.
  await page.getByLabel("Session id").fill(second.sessionId);
  await page.getByRole("button", { name: "End this session" }).click();
  await expect(page.getByTestId("flash")).toHaveText("Session ended (it is now LEFT).");
  expect(await status(request, second.sessionId)).toBe("LEFT");
});

test("a posted message appears on a waiting visitor's page, and goes when taken down", async ({
  page,
  browser,
  request,
}) => {
  const event = uniqueEvent("message");
  await signIn(page);
  await createEvent(page, event, 1);
  await apiJoin(request, event, "holds-the-slot");
  const visitor = await browser.newContext();
  const tab = await visitor.newPage();
  await tab.goto(`/e/${event}`);
  await tab.getByRole("button", { name: "Join the line" }).click();
  await expect(tab.getByTestId("status")).toHaveText("WAITING");
  await expect(tab.getByTestId("message")).toHaveCount(0);

  await page.getByLabel("Message", { exact: true }).fill("Doors open at 10:05");
  await page.getByRole("button", { name: "Post the message" }).click();
  await expect(page.getByTestId("flash")).toContainText("Message posted");
  const message = tab.getByTestId("message");
  await expect(message).toHaveText("Doors open at 10:05");
  // Read out by screen readers when it appears.
  await expect(tab.locator("[aria-live=polite]").getByTestId("message")).toBeVisible();

  await page.getByRole("button", { name: "Take it down" }).click();
  await expect(message).toHaveCount(0);
  await visitor.close();
});

test("every console page has no axe-core violations, also at phone width", async ({ page, request }) => {
  const event = uniqueEvent("axe");
  await page.goto("/admin");
  await noViolations(page);
  await signIn(page);
  await createEvent(page, event, 2);
  await apiJoin(request, event, "someone");
  await page.getByLabel("Message", { exact: true }).fill("Doors open at 10:05");
  await page.getByRole("button", { name: "Post the message" }).click();
  await expect(page.getByTestId("flash")).toBeVisible();
  for (const size of [
    { width: 1280, height: 900 },
    { width: 375, height: 740 },
  ]) {
    await page.setViewportSize(size);
    for (const path of ["/admin", `/admin/events/${event}`]) {
      await page.goto(path);
      await expect(page.locator(".live[data-hydrated=true]")).toBeVisible();
      await noViolations(page);
      // Nothing wider than the screen, apart from the table's own scrolling region.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
    }
  }
  // Every control is reachable with the keyboard, in order.
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`/admin/events/${event}`);
  const reached: string[] = [];
  for (let i = 0; i < 47; i++) {
    await page.keyboard.press("Tab");
    reached.push(await page.evaluate(() => document.activeElement?.textContent?.trim() || (document.activeElement as HTMLInputElement)?.name || ""));
  }
  for (const control of ["Pause admissions", "Post the message", "Save the brand", "Save the settings", "End this session"]) {
    expect(reached).toContain(control);
  }
});

test("a waiting visitor downloads the main WASM only; the console's code loads on its pages", async ({
  page,
  browser,
  request,
}) => {
  const event = uniqueEvent("bundle");
  await apiJoin(request, event, "holds-the-slot");
  const visitor = await browser.newContext();
  const tab = await visitor.newPage();
  const fetched: string[] = [];
  tab.on("request", (r) => fetched.push(new URL(r.url()).pathname));
  await tab.goto(`/e/${event}`);
  await tab.getByRole("button", { name: "Join the line" }).click();
  await expect(tab.locator(".live[data-hydrated=true]")).toBeVisible();
  // The event page and the place page each load the main file (from the cache the
  // second time), and nothing else.
  const wasm = [...new Set(fetched.filter((p) => p.endsWith(".wasm")))];
  expect(wasm).toHaveLength(1);
  expect(wasm[0]).toMatch(/^\/pkg\/vestibule\.[^/]+\.wasm$/);
  await visitor.close();

  const console: string[] = [];
  page.on("request", (r) => console.push(new URL(r.url()).pathname));
  await signIn(page);
  await expect(page.locator(".live[data-hydrated=true]")).toBeVisible();
  const files = [...new Set(console.filter((p) => p.endsWith(".wasm")))];
  expect(files).toContain(wasm[0]);
  expect(files.length).toBeGreaterThan(1);
});

test("the sale's state, its end and its session length are shown and set from the console", async ({
  page,
  browser,
  request,
}) => {
  const event = uniqueEvent("sale");
  await signIn(page);
  await createEvent(page, event, 1);
  await expect(page.getByTestId("sale-state")).toHaveText("Open: joins are taken.");
  await apiJoin(request, event, "holds-the-slot");
  const waiting = await apiJoin(request, event, "waits");
  expect(waiting.status).toBe("WAITING");

  // Session length and cap, with the other settings.
  await page.getByLabel(/^Session length/).fill("600");
  await page.getByLabel(/^Longest session/).fill("1800");
  await page.getByRole("button", { name: "Save the settings" }).click();
  await expect(page.getByTestId("flash")).toHaveText("Settings saved.");
  await expect(page.getByLabel(/^Session length/)).toHaveValue("600");
  await expect(page.getByLabel(/^Longest session/)).toHaveValue("1800");

  // Sold out: the people waiting are told, new visitors see it.
  await page.getByLabel("State", { exact: true }).selectOption("sold_out");
  await page.getByRole("button", { name: "Set the state" }).click();
  await expect(page.getByTestId("flash")).toContainText("Sold out");
  await expect(page.getByTestId("sale-state")).toHaveText("The sale takes nobody: sold out.");
  await expect.poll(() => status(request, waiting.sessionId), { timeout: 15_000 }).toBe("CLOSED");
  const visitor = await browser.newContext();
  const tab = await visitor.newPage();
  await tab.goto(`/e/${event}`);
  await expect(tab.getByRole("heading", { level: 1 })).toHaveText("Sold out");

  // Open again.
  await page.getByLabel("State", { exact: true }).selectOption("open");
  await page.getByRole("button", { name: "Set the state" }).click();
  await expect(page.getByTestId("sale-state")).toHaveText("Open: joins are taken.");
  await tab.reload();
  await expect(tab.getByRole("button", { name: "Join the line" })).toBeVisible();
  await noViolations(page);
  await visitor.close();
});
