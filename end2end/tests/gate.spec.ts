import { readFileSync } from "node:fs";
import { test, expect, APIRequestContext, Page } from "@playwright/test";
import { uniqueEvent } from "./helpers";

// A real nginx in front of a real shop (end2end/shop/), with Vestibule as the line:
// run with JavaScript on and off (both projects).

const NGINX = process.env.NGINX_URL ?? "http://127.0.0.1:8080";
const ADMIN = process.env.ADMIN_TOKEN ?? "end2end-admin";
const SHOP_LOG = process.env.SHOP_LOG ?? "";

/** The requests the shop served for one event, from its own log. */
function served(event: string): string[] {
  return readFileSync(SHOP_LOG, "utf8")
    .split("\n")
    .filter((line) => line.includes(`/shop/${event}/`));
}

async function createEvent(request: APIRequestContext, event: string) {
  const res = await request.put(`/api/admin/events/${event}`, {
    headers: { authorization: `Bearer ${ADMIN}` },
    data: { capacity: 1, targetUrl: `${NGINX}/shop/${event}/` },
  });
  expect(res.status()).toBe(200);
}

/** What nginx answers this browser for a shop page, without following redirects. */
async function door(page: Page, path: string) {
  const res = await page.request.get(`${NGINX}${path}`, { maxRedirects: 0 });
  return { status: res.status(), location: res.headers()["location"] ?? "" };
}

test("through nginx: sent to the line, back in the shop with a pass for that event only, out once given back", async ({
  page,
  browser,
  request,
}, testInfo) => {
  const js = testInfo.project.name === "hydrated";
  // Many steps, each waiting on what the page shows: room for a busy machine.
  test.setTimeout(90_000);
  const a = uniqueEvent("shopa");
  const b = uniqueEvent("shopb");
  await createEvent(request, a);
  await createEvent(request, b);

  // Without a pass the shop serves nothing: nginx sends the browser to the line.
  await page.goto(`${NGINX}/shop/${a}/tickets?seat=12`);
  await expect(page).toHaveURL(new RegExp(`/e/${a}\\?return=`));
  expect(served(a)).toHaveLength(0);

  // One click, no typing; nobody holds the only slot, so admitted at once.
  await page.getByRole("button", { name: "Join the line" }).click();
  if (!js) {
    await expect(page.getByTestId("status")).toHaveText("ACTIVE");
    await page.getByTestId("continue").click();
  }
  await expect(page).toHaveURL(`${NGINX}/shop/${a}/tickets?seat=12`);
  await expect(page.getByRole("heading")).toHaveText(`The shop of ${a}`);
  expect(served(a)).toHaveLength(1);

  // The pass opens its own event's door only.
  expect((await door(page, `/shop/${a}/more`)).status).toBe(200);
  const other = await door(page, `/shop/${b}/`);
  expect(other.status).toBe(302);
  expect(other.location).toContain(`/e/${b}?return=`);
  expect(served(b)).toHaveLength(0);

  // Another browser never gets this place: it waits behind it.
  const second = await browser.newContext({ javaScriptEnabled: js });
  const them = await second.newPage();
  await them.goto(`${NGINX}/shop/${a}/`);
  await them.getByRole("button", { name: "Join the line" }).click();
  await expect(them.getByTestId("status")).toHaveText("WAITING");
  await expect(them.getByTestId("position")).toHaveText("1");
  expect((await door(them, `/shop/${a}/`)).status).toBe(302);

  // Back to the place (no return URL: the page stays) and give the slot back.
  await page.goto(`${NGINX}/e/${a}`);
  await expect(page).toHaveURL(/\/queue\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("status")).toHaveText("ACTIVE");
  // The place's page is this browser's only: the other browser cannot open it.
  const theirs = await them.goto(page.url());
  expect(theirs?.status()).toBe(403);
  await expect(them.getByRole("alert")).toContainText("belongs to another browser");
  await them.goBack();
  const before = served(a).length;
  await page.getByRole("button", { name: "I'm done: give my slot back" }).click();
  await expect(page.getByTestId("status")).toHaveText("LEFT");
  // The pass no longer opens the door: the answer that said LEFT also cleared the cookie
  // (the gate refuses the pass itself too, which the Rust tests check on every instance).
  expect((await door(page, `/shop/${a}/`)).status).toBe(302);
  expect(served(a)).toHaveLength(before);

  // The slot went to the other browser, which goes on to the shop (by itself with
  // JavaScript; without it, the page refreshes itself and offers the way on).
  if (!js) {
    await expect(them.getByTestId("status")).toHaveText("ACTIVE", { timeout: 30_000 });
    await them.getByTestId("continue").click();
  }
  await expect(them).toHaveURL(`${NGINX}/shop/${a}/`, { timeout: 30_000 });
  await expect(them.getByRole("heading")).toHaveText(`The shop of ${a}`);
  await second.close();
});

test("a pass that was given back no longer opens the door, even when replayed", async ({ request }) => {
  const event = uniqueEvent("replay");
  await createEvent(request, event);
  const join = await request.post("/api/waiting-room/sessions", { data: { eventId: event, userId: "u" } });
  const me = await join.json();
  let pass = "";
  await expect
    .poll(async () => {
      const now = await (await request.get(`/api/waiting-room/sessions/${me.sessionId}`)).json();
      pass = now.accessToken ?? "";
      return now.status;
    })
    .toBe("ACTIVE");
  const open = () =>
    request.get(`${NGINX}/shop/${event}/`, { headers: { cookie: `vestibule_pass=${pass}` }, maxRedirects: 0 });
  expect((await open()).status()).toBe(200);
  expect((await request.delete(`/api/waiting-room/sessions/${me.sessionId}`)).status()).toBe(200);
  // Refused from the answer on (this room's process learnt of it as it answered; the Rust
  // tests check the other instances).
  expect((await open()).status()).toBe(302);
});
