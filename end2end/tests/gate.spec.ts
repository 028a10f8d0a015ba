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

test("through nginx: straight into an empty event's shop, the line once it is full, the next one in at checkout", async ({
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

  // Standby: the event is empty, so there is no line: the shop's URL takes the browser
  // straight back to that same URL with a pass, without a click or a page to read.
  await page.goto(`${NGINX}/shop/${a}/tickets?seat=12`);
  await expect(page).toHaveURL(`${NGINX}/shop/${a}/tickets?seat=12`);
  await expect(page.getByRole("heading")).toHaveText(`The shop of ${a}`);
  expect(served(a)).toHaveLength(1);

  // The pass opens its own event's door only.
  expect((await door(page, `/shop/${a}/more`)).status).toBe(200);
  const other = await door(page, `/shop/${b}/`);
  expect(other.status).toBe(302);
  expect(other.location).toContain(`/e/${b}?return=`);
  expect(served(b)).toHaveLength(0);

  // The event is full: another browser sees the line, and never gets this place.
  const second = await browser.newContext({ javaScriptEnabled: js });
  const them = await second.newPage();
  await them.goto(`${NGINX}/shop/${a}/`);
  await expect(them).toHaveURL(new RegExp(`/e/${a}\\?return=`));
  await them.getByRole("button", { name: "Join the line" }).click();
  await expect(them.getByTestId("status")).toHaveText("WAITING");
  await expect(them.getByTestId("position")).toHaveText("1");
  expect((await door(them, `/shop/${a}/`)).status).toBe(302);

  // The first browser's place (no return URL: the page stays) is its own only.
  await page.goto(`${NGINX}/e/${a}`);
  await expect(page).toHaveURL(/\/queue\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("status")).toHaveText("ACTIVE");
  const theirs = await them.goto(page.url());
  expect(theirs?.status()).toBe(403);
  await expect(them.getByRole("alert")).toContainText("belongs to another browser");
  await them.goBack();
  await expect(them.getByTestId("status")).toHaveText("WAITING");

  // The first buyer pays: the shop's own code ends the session with the pass (checkout),
  // and the slot goes to the second browser at once, which lands in the shop by itself.
  await page.goto(`${NGINX}/shop/${a}/cart`);
  const before = served(a).length;
  await page.getByRole("button", { name: "Pay" }).click();
  await expect(page.getByTestId("checkout")).toHaveText("room answered 200");
  const paid = Date.now();
  await expect(them).toHaveURL(`${NGINX}/shop/${a}/`, { timeout: 30_000 });
  const landed = Date.now() - paid;
  console.log(`checkout → the next browser in the shop: ${landed} ms (JavaScript ${js ? "on" : "off"})`);
  await expect(them.getByRole("heading")).toHaveText(`The shop of ${a}`);
  // The paid pass opens nothing any more.
  expect((await door(page, `/shop/${a}/`)).status).toBe(302);
  expect(served(a).length).toBe(before + 2); // the checkout, and the second buyer's page
  await second.close();
});

test("with JavaScript on and off, giving the slot back shuts the door at once", async ({
  page,
  request,
}) => {
  const a = uniqueEvent("giveback");
  await createEvent(request, a);
  await page.goto(`${NGINX}/shop/${a}/`);
  await expect(page.getByRole("heading")).toHaveText(`The shop of ${a}`);
  await page.goto(`${NGINX}/e/${a}`);
  await expect(page.getByTestId("status")).toHaveText("ACTIVE");
  const before = served(a).length;
  await page.getByRole("button", { name: "I'm done: give my slot back" }).click();
  await expect(page.getByTestId("status")).toHaveText("LEFT");
  // The pass no longer opens the door: the answer that said LEFT also cleared the cookie
  // (the gate refuses the pass itself too, which the Rust tests check on every instance).
  expect((await door(page, `/shop/${a}/`)).status).toBe(302);
  expect(served(a)).toHaveLength(before);
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
